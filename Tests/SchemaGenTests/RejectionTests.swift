import SchemaGen
import Testing

/// Keywords the generator cannot honour, and broken schemas: each is refused
/// with an error that points at the offending node.
@Suite struct RejectionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var schema: String
        var error: SchemaGenError
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "$dynamicRef",
            schema: ##"{"$defs": {"A": {"type": "object", "properties": {"b": {"$dynamicRef": "#node"}}}}}"##,
            error: .unsupported(pointer: "#/$defs/A/properties/b/$dynamicRef", message: "$dynamicRef is not supported")
        ),
        Case(
            name: "not",
            schema: #"{"$defs": {"A": {"not": {"type": "string"}}}}"#,
            error: .unsupported(pointer: "#/$defs/A/not", message: "'not' cannot be expressed as a type")
        ),
        Case(
            name: "if/then/else",
            schema: #"{"$defs": {"A": {"type": "object", "if": {}, "then": {}, "else": {}}}}"#,
            error: .unsupported(pointer: "#/$defs/A/if", message: "'if'/'then'/'else' cannot be expressed as a type")
        ),
        Case(
            name: "then alone",
            schema: #"{"$defs": {"A": {"type": "object", "then": {}}}}"#,
            error: .unsupported(pointer: "#/$defs/A/then", message: "'if'/'then'/'else' cannot be expressed as a type")
        ),
        Case(
            name: "prefixItems",
            schema: #"{"$defs": {"Pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}}}"#,
            error: .unsupported(pointer: "#/$defs/Pair/prefixItems", message: "'prefixItems' (tuples) is not supported")
        ),
        Case(
            name: "unevaluatedProperties",
            schema: #"{"$defs": {"A": {"type": "object", "unevaluatedProperties": false}}}"#,
            error: .unsupported(pointer: "#/$defs/A/unevaluatedProperties", message: "'unevaluatedProperties' is not supported")
        ),
        Case(
            name: "remote $ref",
            schema: #"{"$defs": {"A": {"type": "object", "properties": {"b": {"$ref": "https://example.com/b.json"}}}}}"#,
            error: .unsupported(
                pointer: "#/$defs/A/properties/b/$ref",
                message: "remote reference \"https://example.com/b.json\" is not supported"
            )
        ),
        Case(
            name: "unresolvable $ref",
            schema: ##"{"$defs": {"A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/Missing"}}}}}"##,
            error: .unresolvableReference(pointer: "#/$defs/A/properties/b", reference: "#/$defs/Missing")
        ),
        Case(
            name: "malformed JSON",
            schema: "{\n  \"$defs\": {\n    \"A\": {\"type\": \"object\",}\n  }\n}",
            error: .malformedJSON(message: "expected a string key", line: 3, column: 28)
        ),
        Case(
            name: "unterminated JSON",
            schema: "{\"$defs\": {",
            error: .malformedJSON(message: "expected a string key", line: 1, column: 12)
        ),
        Case(
            name: "unknown keyword",
            schema: #"{"$defs": {"A": {"type": "object", "propertyz": {}}}}"#,
            error: .unsupported(pointer: "#/$defs/A/propertyz", message: "unknown keyword 'propertyz'")
        ),
        Case(
            name: "definitions below the root",
            schema: #"{"definitions": {"A": {"type": "object", "definitions": {"B": {}}}}}"#,
            error: .unsupported(pointer: "#/definitions/A/definitions", message: "'definitions' is only supported at the root")
        ),
        Case(
            name: "unresolvable draft-07 $ref",
            schema: ##"{"definitions": {"A": {"type": "object", "properties": {"b": {"$ref": "#/definitions/Missing"}}}}}"##,
            error: .unresolvableReference(pointer: "#/definitions/A/properties/b", reference: "#/definitions/Missing")
        ),
        Case(
            name: "allOf with conflicting types",
            schema:
                ##"{"$defs": {"A": {"type": "object", "properties": {"n": {"type": "string"}}}, "B": {"allOf": [{"$ref": "#/$defs/A"}, {"properties": {"n": {"type": "integer"}}}]}}}"##,
            error: .invalidSchema(
                pointer: "#/$defs/B/allOf/1/properties/n/type",
                message: "allOf gives property \"n\" the types string and integer, which no value satisfies both of"
            )
        ),
        Case(
            name: "allOf with two constants",
            schema: ##"{"$defs": {"B": {"allOf": [{"properties": {"k": {"const": "a"}}}, {"properties": {"k": {"const": "b"}}}]}}}"##,
            error: .invalidSchema(
                pointer: "#/$defs/B/allOf/1/properties/k/const",
                message: "allOf gives property \"k\" the constants \"a\" and \"b\", which no value satisfies both of"
            )
        ),
        Case(
            name: "allOf with a constant outside the pattern",
            schema:
                ##"{"$defs": {"B": {"allOf": [{"properties": {"k": {"type": "string", "pattern": "_update$"}}}, {"properties": {"k": {"const": "ping"}}}]}}}"##,
            error: .invalidSchema(
                pointer: "#/$defs/B/allOf/1/properties/k/const",
                message: "allOf gives property \"k\" the constant \"ping\" and the pattern _update$, which no value satisfies both of"
            )
        ),
        Case(
            name: "allOf with disjoint enums",
            schema: ##"{"$defs": {"B": {"properties": {"k": {"enum": ["a"]}}, "allOf": [{"properties": {"k": {"enum": ["b"]}}}]}}}"##,
            error: .invalidSchema(
                pointer: "#/$defs/B/allOf/0/properties/k/enum",
                message: "allOf gives property \"k\" two enums with no value in common, which no value satisfies both of"
            )
        ),
        Case(
            name: "allOf with an object and a string",
            schema:
                ##"{"$defs": {"B": {"properties": {"k": {"type": "object", "properties": {"a": {}}}}, "allOf": [{"properties": {"k": {"type": "string"}}}]}}}"##,
            error: .invalidSchema(
                pointer: "#/$defs/B/allOf/0/properties/k",
                message: "allOf gives property \"k\" an object and a value of another shape, which no value satisfies both of"
            )
        ),
        Case(
            name: "oneOf beside anyOf",
            schema: #"{"$defs": {"A": {"oneOf": [{"type": "string"}], "anyOf": [{"type": "integer"}]}}}"#,
            error: .unsupported(pointer: "#/$defs/A/anyOf", message: "oneOf and anyOf on one node are not supported")
        ),
        Case(
            name: "an enum beside properties",
            schema: #"{"$defs": {"A": {"enum": ["a"], "properties": {"b": {}}}}}"#,
            error: .unsupported(pointer: "#/$defs/A/enum", message: "an enum beside properties, allOf, oneOf or anyOf is not supported")
        ),
        Case(
            name: "properties on a string",
            schema: #"{"$defs": {"A": {"type": "string", "properties": {"b": {}}}}}"#,
            error: .invalidSchema(pointer: "#/$defs/A/type", message: "properties or allOf on a node of type string")
        ),
        Case(
            name: "a pure $ref cycle",
            schema: ##"{"$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}}}"##,
            error: .invalidSchema(pointer: "#/$defs/A", message: "a $ref cycle with no type in between (A → B → A)")
        ),
        Case(
            name: "a $ref to itself",
            schema: ##"{"$defs": {"A": {"$ref": "#/$defs/A"}}}"##,
            error: .invalidSchema(pointer: "#/$defs/A", message: "a $ref cycle with no type in between (A → A)")
        ),
        Case(
            name: "an array of itself",
            schema: ##"{"$defs": {"Tree": {"type": "array", "items": {"$ref": "#/$defs/Tree"}}}}"##,
            error: .unsupported(
                pointer: "#/$defs/Tree",
                message: "an array or dictionary of itself cannot be a Swift type alias; wrap it in an object"
            )
        ),
        Case(
            name: "a dictionary of itself, through another alias",
            schema: ##"{"$defs": {"A": {"$ref": "#/$defs/Map"}, "Map": {"type": "object", "additionalProperties": {"$ref": "#/$defs/A"}}}}"##,
            error: .unsupported(pointer: "#/$defs/A", message: "an array or dictionary of itself cannot be a Swift type alias; wrap it in an object")
        ),
        Case(
            name: "a vendor-looking keyword without its x- prefix",
            schema: #"{"$defs": {"A": {"type": "object", "vendor-order": 1}}}"#,
            error: .unsupported(pointer: "#/$defs/A/vendor-order", message: "unknown keyword 'vendor-order'")
        ),
    ]

    @Test(arguments: cases)
    func rejected(_ testCase: Case) {
        #expect(throws: testCase.error) {
            try Generator(sourceName: "test.json").generate(schemaText: testCase.schema)
        }
    }

    @Test func errorDescriptionNamesThePointer() {
        let error = SchemaGenError.unsupported(pointer: "#/$defs/A/not", message: "'not' cannot be expressed as a type")
        #expect(error.description == "unsupported schema at #/$defs/A/not: 'not' cannot be expressed as a type")
        let malformed = SchemaGenError.malformedJSON(message: "expected a string key", line: 3, column: 29)
        #expect(malformed.description == "malformed JSON at line 3, column 29: expected a string key")
    }
}
