import Testing

@testable import SchemaGen

/// Tag patterns as TypeScript template literal types: a JSON Schema pattern matches anywhere, so an
/// end without its anchor stays open; anything not a plain literal with open ends is a `string`.
@Suite struct TemplateLiteralTests {
    @Test(
        arguments: [
            ("^[a-z_]+_update$", "`${string}_update`"),
            ("_update$", "`${string}_update`"),
            ("[a-z]+_update$", "`${string}_update`"),
            ("^x_[a-z]+$", "`x_${string}`"),
            ("^x_", "`x_${string}`"),
            ("^x_[a-z0-9]+", "`x_${string}`"),
            ("update", "`${string}update${string}`"),
        ]
    )
    func aSimplePatternNarrows(pattern: String, literal: String) {
        #expect(TypeScriptRenderer.templateLiteral(for: pattern) == literal)
    }

    @Test(arguments: ["^[a-z_]+$", "^exact$", "^a.b$", "_update\\$", "^(a|b)_x$", "^[a-z]*_x$", ""])
    func anythingElseIsAString(pattern: String) {
        #expect(TypeScriptRenderer.templateLiteral(for: pattern) == nil)
    }
}
