import Foundation

/// Turns a parsed JSON document into ``SchemaNode``s, rejecting every keyword
/// the generator cannot honour with the JSON pointer of the offending node.
public enum SchemaParser {
    /// Keywords that shape the generated types.
    static let shapingKeywords: Set<String> = [
        "$ref", "type", "properties", "required", "additionalProperties", "items", "enum", "const",
        "oneOf", "anyOf", "allOf", "format", "pattern", "title", "description", "deprecated", "default",
    ]

    /// Keywords that only validate or annotate; they change no generated type. Besides these, any
    /// `x-` vendor extension is ignored.
    static let validationKeywords: Set<String> = [
        // `id` is draft-04's `$id`.
        "$schema", "$id", "id", "$comment", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "minProperties",
        "maxProperties", "examples", "readOnly", "writeOnly", "contentMediaType", "contentEncoding",
        // Editor annotations common in real schemas (SchemaStore's, for VS Code).
        "markdownDescription", "markdownEnumDescriptions", "enumDescriptions", "deprecationMessage", "errorMessage",
        "defaultSnippets",
    ]

    /// Where named schemas live: 2020-12's `$defs`, and draft-07's `definitions`, read alike.
    static let definitionKeywords = ["$defs", "definitions"]

    /// Keywords that change what a value may be in ways no generated type can express.
    static let rejectedKeywords: [String: String] = [
        "$dynamicRef": "$dynamicRef is not supported",
        "$dynamicAnchor": "$dynamicAnchor is not supported",
        "$recursiveRef": "$recursiveRef is not supported",
        "not": "'not' cannot be expressed as a type",
        "if": "'if'/'then'/'else' cannot be expressed as a type",
        "then": "'if'/'then'/'else' cannot be expressed as a type",
        "else": "'if'/'then'/'else' cannot be expressed as a type",
        "prefixItems": "'prefixItems' (tuples) is not supported",
        "unevaluatedProperties": "'unevaluatedProperties' is not supported",
        "unevaluatedItems": "'unevaluatedItems' is not supported",
        "patternProperties": "'patternProperties' is not supported",
        "propertyNames": "'propertyNames' is not supported",
        "dependentSchemas": "'dependentSchemas' is not supported",
        "dependentRequired": "'dependentRequired' is not supported",
        "contains": "'contains' is not supported",
    ]

    /// Parses schema text into its root node.
    public static func parse(text: String) throws(SchemaGenError) -> SchemaNode {
        try parse(document: JSONParser.parse(text))
    }

    public static func parse(document: JSONDocument) throws(SchemaGenError) -> SchemaNode {
        try node(document, pointer: "#", isRoot: true)
    }

    private static func node(
        _ document: JSONDocument,
        pointer: String,
        isRoot: Bool = false
    ) throws(SchemaGenError)
        -> SchemaNode
    {
        if case .bool(true) = document {
            return SchemaNode.empty(at: pointer)
        }
        guard let members = document.objectMembers else {
            throw .invalidSchema(pointer: pointer, message: "a schema must be an object or true")
        }
        for (key, _) in members {
            if let reason = rejectedKeywords[key] {
                throw .unsupported(pointer: pointer + "/" + escape(key), message: reason)
            }
            if definitionKeywords.contains(key) || key == "version" {
                guard isRoot else {
                    throw .unsupported(pointer: pointer + "/" + escape(key), message: "'\(key)' is only supported at the root")
                }
                continue
            }
            guard shapingKeywords.contains(key) || validationKeywords.contains(key) || key.hasPrefix("x-") else {
                throw .unsupported(pointer: pointer + "/" + escape(key), message: "unknown keyword '\(key)'")
            }
        }

        let reference = try string(document["$ref"], pointer: pointer, keyword: "$ref")
        if let reference, !reference.hasPrefix("#") {
            throw .unsupported(pointer: pointer + "/$ref", message: "remote reference \"\(reference)\" is not supported")
        }
        let parsed = SchemaNode(
            pointer: pointer,
            title: try string(document["title"], pointer: pointer, keyword: "title"),
            description: try string(document["description"], pointer: pointer, keyword: "description"),
            types: try types(document["type"], pointer: pointer),
            reference: reference,
            properties: try properties(document["properties"], pointer: pointer),
            required: try stringArray(document["required"], pointer: pointer, keyword: "required") ?? [],
            additionalProperties: try additionalProperties(document["additionalProperties"], pointer: pointer),
            items: try document["items"].map { items throws(SchemaGenError) in
                try node(items, pointer: pointer + "/items")
            },
            enumValues: try enumValues(document["enum"], pointer: pointer),
            constValue: try constValue(document["const"], pointer: pointer),
            pattern: try string(document["pattern"], pointer: pointer, keyword: "pattern"),
            format: try string(document["format"], pointer: pointer, keyword: "format"),
            oneOf: try schemaArray(document["oneOf"], pointer: pointer, keyword: "oneOf"),
            anyOf: try schemaArray(document["anyOf"], pointer: pointer, keyword: "anyOf"),
            allOf: try schemaArray(document["allOf"], pointer: pointer, keyword: "allOf"),
            deprecated: try bool(document["deprecated"], pointer: pointer, keyword: "deprecated") ?? false,
            defaultValue: document["default"],
            definitions: isRoot ? try definitions(document, pointer: pointer) : [],
            version: isRoot ? try string(document["version"], pointer: pointer, keyword: "version") : nil
        )
        let implied = impliedTypes(of: parsed)
        return implied == parsed.types ? parsed : SchemaNode(copying: parsed, types: implied)
    }

    /// A node that names no type but uses the keywords of one describes values of that type, as
    /// json-schema-to-typescript reads it: `additionalProperties` alone an object, `items` alone an
    /// array. Otherwise the node would become "any JSON value" and drop what those keywords say.
    private static func impliedTypes(of node: SchemaNode) -> [SchemaNode.PrimitiveType] {
        guard node.types.isEmpty, node.reference == nil, node.enumValues == nil, node.constValue == nil, node.properties.isEmpty,
            node.oneOf.isEmpty, node.anyOf.isEmpty, node.allOf.isEmpty
        else { return node.types }
        switch (node.additionalProperties.isAbsent, node.items) {
        case (false, nil): return [.object]
        case (true, .some): return [.array]
        default: return node.types
        }
    }

    private static func types(_ value: JSONDocument?, pointer: String) throws(SchemaGenError) -> [SchemaNode.PrimitiveType] {
        guard let value else { return [] }
        let names: [String]
        switch value {
        case .string(let name): names = [name]
        case .array(let elements):
            names = try elements.map { element throws(SchemaGenError) in
                guard let name = element.stringValue else {
                    throw .invalidSchema(pointer: pointer + "/type", message: "type names must be strings")
                }
                return name
            }
        default: throw .invalidSchema(pointer: pointer + "/type", message: "'type' must be a string or an array")
        }
        let types = try names.map { name throws(SchemaGenError) in
            guard let type = SchemaNode.PrimitiveType(rawValue: name) else {
                throw .invalidSchema(pointer: pointer + "/type", message: "unknown type '\(name)'")
            }
            return type
        }
        return types
    }

    private static func properties(
        _ value: JSONDocument?,
        pointer: String
    ) throws(SchemaGenError) -> [(name: String, schema: SchemaNode)] {
        try namedSchemas(value, keyword: "properties", pointer: pointer)
    }

    /// The members of `$defs`, then of `definitions`, each with its own pointer.
    private static func definitions(
        _ document: JSONDocument,
        pointer: String
    ) throws(SchemaGenError) -> [(name: String, schema: SchemaNode)] {
        var all: [(name: String, schema: SchemaNode)] = []
        for keyword in definitionKeywords {
            all += try namedSchemas(document[keyword], keyword: keyword, pointer: pointer)
        }
        return all
    }

    /// The members of a keyword whose value maps names to schemas, in order.
    private static func namedSchemas(
        _ value: JSONDocument?,
        keyword: String,
        pointer: String
    ) throws(SchemaGenError) -> [(name: String, schema: SchemaNode)] {
        guard let value else { return [] }
        guard let members = value.objectMembers else {
            throw .invalidSchema(pointer: pointer + "/" + keyword, message: "'\(keyword)' must be an object")
        }
        var result: [(name: String, schema: SchemaNode)] = []
        for (name, schema) in members {
            result.append((name, try node(schema, pointer: pointer + "/" + escape(keyword) + "/" + escape(name))))
        }
        return result
    }

    private static func additionalProperties(
        _ value: JSONDocument?,
        pointer: String
    ) throws(SchemaGenError)
        -> SchemaNode.AdditionalProperties
    {
        switch value {
        case nil: .absent
        case .bool(true): .allowed
        case .bool(false): .forbidden
        case .some(let schema): .schema(try node(schema, pointer: pointer + "/additionalProperties"))
        }
    }

    private static func enumValues(_ value: JSONDocument?, pointer: String) throws(SchemaGenError) -> [String]? {
        guard let value else { return nil }
        guard let elements = value.arrayValue, !elements.isEmpty else {
            throw .invalidSchema(pointer: pointer + "/enum", message: "'enum' must be a non-empty array")
        }
        return try elements.map { element throws(SchemaGenError) in
            guard let string = element.stringValue else {
                throw .unsupported(pointer: pointer + "/enum", message: "only string enums are supported")
            }
            return string
        }
    }

    private static func constValue(_ value: JSONDocument?, pointer: String) throws(SchemaGenError) -> String? {
        guard let value else { return nil }
        guard let string = value.stringValue else {
            throw .unsupported(pointer: pointer + "/const", message: "only string constants are supported")
        }
        return string
    }

    private static func schemaArray(
        _ value: JSONDocument?,
        pointer: String,
        keyword: String
    ) throws(SchemaGenError)
        -> [SchemaNode]
    {
        guard let value else { return [] }
        guard let elements = value.arrayValue, !elements.isEmpty else {
            throw .invalidSchema(pointer: pointer + "/" + keyword, message: "'\(keyword)' must be a non-empty array")
        }
        var result: [SchemaNode] = []
        for (index, element) in elements.enumerated() {
            result.append(try node(element, pointer: "\(pointer)/\(keyword)/\(index)"))
        }
        return result
    }

    private static func string(_ value: JSONDocument?, pointer: String, keyword: String) throws(SchemaGenError) -> String? {
        guard let value else { return nil }
        guard let string = value.stringValue else {
            throw .invalidSchema(pointer: pointer + "/" + escape(keyword), message: "'\(keyword)' must be a string")
        }
        return string
    }

    private static func stringArray(
        _ value: JSONDocument?,
        pointer: String,
        keyword: String
    ) throws(SchemaGenError)
        -> [String]?
    {
        guard let value else { return nil }
        guard let elements = value.arrayValue else {
            throw .invalidSchema(pointer: pointer + "/" + keyword, message: "'\(keyword)' must be an array of strings")
        }
        return try elements.map { element throws(SchemaGenError) in
            guard let string = element.stringValue else {
                throw .invalidSchema(pointer: pointer + "/" + keyword, message: "'\(keyword)' must be an array of strings")
            }
            return string
        }
    }

    private static func bool(_ value: JSONDocument?, pointer: String, keyword: String) throws(SchemaGenError) -> Bool? {
        guard let value else { return nil }
        guard let bool = value.boolValue else {
            throw .invalidSchema(pointer: pointer + "/" + keyword, message: "'\(keyword)' must be a boolean")
        }
        return bool
    }

    /// Escapes a reference token as RFC 6901 says.
    static func escape(_ token: String) -> String {
        token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}
