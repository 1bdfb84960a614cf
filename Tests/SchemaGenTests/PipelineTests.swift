import Foundation
import SchemaGen
import Testing

@Suite struct JSONParserTests {
    @Test func keepsMemberOrder() throws {
        let document = try JSONParser.parse(#"{"b": 1, "a": [true, null, "x\u00e9\n"], "c": {"z": -1.5e3}}"#)
        #expect(document.objectMembers?.map(\.key) == ["b", "a", "c"])
        #expect(document["a"] == .array([.bool(true), .null, .string("xé\n")]))
        #expect(document["c"]?["z"] == .number("-1.5e3"))
    }

    @Test func decodesSurrogatePairs() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test(arguments: [
        ("[1,]", "unexpected character ']', expected a value", 1, 4),
        ("{\"a\" 1}", "expected ':' after a key", 1, 6),
        ("\"\\ud800\"", "lone high surrogate in \\u escape", 1, 8),
        ("01", "unexpected content after the JSON value", 1, 2),
        ("{\"a\": 1, \"a\": 2}", "duplicate key \"a\"", 1, 13),
        ("[\n\n  nul]", "invalid literal, expected 'null'", 3, 3),
    ])
    func reportsLineAndColumn(text: String, message: String, line: Int, column: Int) {
        #expect(throws: SchemaGenError.malformedJSON(message: message, line: line, column: column)) {
            try JSONParser.parse(text)
        }
    }
}

@Suite struct UnifiedDiffTests {
    @Test func equalTextsHaveNoDiff() {
        #expect(UnifiedDiff.diff(old: "a\nb\n", new: "a\nb\n", oldName: "x", newName: "y").isEmpty)
    }

    @Test func showsChangedLinesWithContext() {
        let old = (1...10).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let new = old.replacingOccurrences(of: "line 5\n", with: "line five\n")
        let diff = UnifiedDiff.diff(old: old, new: new, oldName: "old.ts", newName: "new.ts")
        #expect(
            diff == """
                --- old.ts
                +++ new.ts
                @@ -2,7 +2,7 @@
                 line 2
                 line 3
                 line 4
                -line 5
                +line five
                 line 6
                 line 7
                 line 8

                """
        )
    }

    @Test func separateHunksForDistantChanges() {
        let old = (1...30).map { "l\($0)" }.joined(separator: "\n") + "\n"
        let new = old.replacingOccurrences(of: "l2\n", with: "").replacingOccurrences(of: "l28\n", with: "l28\nadded\n")
        let diff = UnifiedDiff.diff(old: old, new: new, oldName: "a", newName: "b")
        #expect(diff.components(separatedBy: "@@ -").count - 1 == 2)
        #expect(diff.contains("@@ -1,5 +1,4 @@\n l1\n-l2\n l3\n"))
        #expect(diff.contains("+added\n"))
    }
}

@Suite struct GuardsTests {
    static let schema = #"""
        {"$defs": {
          "A": {"type": "object", "properties": {"kind": {"const": "a"}}, "required": ["kind"]},
          "B": {"type": "object", "properties": {"kind": {"type": "string", "pattern": "^b_[a-z]+$"}}, "required": ["kind"]},
          "Event": {"oneOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}]},
          "UnknownEvent": {"type": "object", "properties": {"note": {"type": "string"}}},
          "Color": {"enum": ["red", "green"]}
        }}
        """#

    @Test func theUnknownMemberTypeTakesAFreeName() throws {
        let output = try Generator(sourceName: "events.json").generate(schemaText: Self.schema)
        #expect(output.typeScript.contains("export interface UnknownEvent {\n  note?: string;"))
        #expect(output.typeScript.contains("export interface UnknownEvent2 {\n  kind: string;\n  [k: string]: unknown;\n}"))
        #expect(output.guards == nil, "no guards unless asked for")
    }

    @Test func guardsCheckTagsAndPatternsAndEnumValues() throws {
        let guards = try #require(try Generator(sourceName: "events.json", guardsTypesModule: "./events").generate(schemaText: Self.schema).guards)
        #expect(guards.javaScript.contains(#"const eventTags = new Set(["a"]);"#))
        #expect(guards.javaScript.contains(#"const eventTagPatterns = /** @type {RegExp[]} */ ([new RegExp("^b_[a-z]+$", "u")]);"#))
        #expect(guards.javaScript.contains(#"const tag = /** @type {Record<string, unknown>} */ (value)["kind"];"#))
        #expect(guards.javaScript.contains(#"const colorValues = new Set(["red", "green"]);"#))
        #expect(guards.declarations.contains(#"import type { Event, Color } from "./events";"#))
        #expect(guards.declarations.contains("export declare function isEvent(value: unknown): value is Event;"))
        #expect(guards.declarations.contains("export declare function isColor(value: unknown): value is Color;"))
    }
}
