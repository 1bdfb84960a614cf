import Foundation
import SchemaGen
import Testing

/// One small schema per supported keyword, with the exact Swift and TypeScript
/// it must produce, committed next to it in `Snippets/<name>/`.
@Suite struct SnippetTests {
    static let snippetsDirectory = GoldenFile.packageRoot.appending(path: "Tests/SchemaGenTests/Snippets")

    static let snippetNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: snippetsDirectory.path)) ?? []
        return names.sorted()
    }()

    @Test func everySupportedKeywordHasASnippet() {
        let expected = [
            "additional-properties", "allof", "allof-intersection", "anyof", "const", "default", "definitions-draft-07", "defs-and-ref", "deprecated",
            "format-date-time", "implied-types", "items", "nullable-type", "properties-required", "property-names", "recursive-ref", "root-schema",
            "string-enum",
            "tagged-oneof", "title-description", "type-array", "type-name-collisions", "type-names", "union-member-table", "union-with-properties",
            "version-constant",
        ]
        #expect(Self.snippetNames == expected)
    }

    @Test(arguments: snippetNames)
    func snippet(_ name: String) throws {
        let directory = Self.snippetsDirectory.appending(path: name)
        let schema = try String(contentsOf: directory.appending(path: "schema.json"), encoding: .utf8)
        let output = try Generator(sourceName: "\(name)/schema.json", regenerateCommand: "schemagen generate")
            .generate(schemaText: schema)
        try GoldenFile.assertMatches(output.swift, path: directory.appending(path: "Expected.swift.golden"))
        try GoldenFile.assertMatches(output.typeScript, path: directory.appending(path: "Expected.d.ts.golden"))
    }
}
