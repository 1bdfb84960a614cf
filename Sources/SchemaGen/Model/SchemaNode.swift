/// One node of a JSON Schema, reduced to the keywords the generator honours.
///
/// Built by ``SchemaParser``, which has already rejected every keyword the
/// generator cannot honour, so later stages only see supported shapes.
public final class SchemaNode: Sendable {
    public enum PrimitiveType: String, Sendable, CaseIterable {
        case string, integer, number, boolean, object, array, null
    }

    public enum AdditionalProperties: Sendable {
        /// The keyword is absent: unknown keys are allowed and ignored.
        case absent
        /// `true`: unknown keys are allowed and kept.
        case allowed
        /// `false`: unknown keys are rejected.
        case forbidden
        /// A schema: unknown keys are kept, each value of that schema.
        case schema(SchemaNode)

        var isAbsent: Bool {
            if case .absent = self { return true }
            return false
        }
    }

    /// The node's JSON pointer, such as `#/$defs/Pong/properties/type`.
    public let pointer: String
    public let title: String?
    public let description: String?
    public let types: [PrimitiveType]
    public let reference: String?
    public let properties: [(name: String, schema: SchemaNode)]
    public let required: [String]
    public let additionalProperties: AdditionalProperties
    public let items: SchemaNode?
    public let enumValues: [String]?
    public let constValue: String?
    public let pattern: String?
    public let format: String?
    public let oneOf: [SchemaNode]
    public let anyOf: [SchemaNode]
    public let allOf: [SchemaNode]
    public let deprecated: Bool
    public let defaultValue: JSONDocument?
    /// Only on the root: the members of `$defs`, in document order.
    public let definitions: [(name: String, schema: SchemaNode)]
    /// Only on the root: the non-standard `version` key, the contract version.
    public let version: String?

    init(
        pointer: String,
        title: String?,
        description: String?,
        types: [PrimitiveType],
        reference: String?,
        properties: [(name: String, schema: SchemaNode)],
        required: [String],
        additionalProperties: AdditionalProperties,
        items: SchemaNode?,
        enumValues: [String]?,
        constValue: String?,
        pattern: String?,
        format: String?,
        oneOf: [SchemaNode],
        anyOf: [SchemaNode],
        allOf: [SchemaNode],
        deprecated: Bool,
        defaultValue: JSONDocument?,
        definitions: [(name: String, schema: SchemaNode)],
        version: String?
    ) {
        self.pointer = pointer
        self.title = title
        self.description = description
        self.types = types
        self.reference = reference
        self.properties = properties
        self.required = required
        self.additionalProperties = additionalProperties
        self.items = items
        self.enumValues = enumValues
        self.constValue = constValue
        self.pattern = pattern
        self.format = format
        self.oneOf = oneOf
        self.anyOf = anyOf
        self.allOf = allOf
        self.deprecated = deprecated
        self.defaultValue = defaultValue
        self.definitions = definitions
        self.version = version
    }

    /// Whether `null` is one of the node's types.
    public var isNullable: Bool { types.contains(.null) }

    /// The node's types other than `null`.
    public var nonNullTypes: [PrimitiveType] { types.filter { $0 != .null } }
}

extension SchemaNode {
    /// A copy with some keywords replaced: what an intersection of two nodes builds. A root's copy
    /// keeps its definitions and version.
    convenience init(
        copying base: SchemaNode,
        pointer: String? = nil,
        types: [PrimitiveType]? = nil,
        reference: String?? = nil,
        description: String?? = nil,
        title: String?? = nil,
        items: SchemaNode?? = nil,
        properties: [(name: String, schema: SchemaNode)]? = nil,
        required: [String]? = nil,
        additionalProperties: AdditionalProperties? = nil,
        enumValues: [String]?? = nil,
        constValue: String?? = nil,
        pattern: String?? = nil,
        format: String?? = nil,
        oneOf: [SchemaNode]? = nil,
        anyOf: [SchemaNode]? = nil,
        allOf: [SchemaNode]? = nil,
        deprecated: Bool? = nil,
        defaultValue: JSONDocument?? = nil
    ) {
        self.init(
            pointer: pointer ?? base.pointer,
            title: title ?? base.title,
            description: description ?? base.description,
            types: types ?? base.types,
            reference: reference ?? base.reference,
            properties: properties ?? base.properties,
            required: required ?? base.required,
            additionalProperties: additionalProperties ?? base.additionalProperties,
            items: items ?? base.items,
            enumValues: enumValues ?? base.enumValues,
            constValue: constValue ?? base.constValue,
            pattern: pattern ?? base.pattern,
            format: format ?? base.format,
            oneOf: oneOf ?? base.oneOf,
            anyOf: anyOf ?? base.anyOf,
            allOf: allOf ?? base.allOf,
            deprecated: deprecated ?? base.deprecated,
            defaultValue: defaultValue ?? base.defaultValue,
            definitions: base.definitions,
            version: base.version
        )
    }

    /// A node with no keywords (the schema `true`), or only `types`.
    static func empty(at pointer: String, types: [PrimitiveType] = []) -> SchemaNode {
        SchemaNode(
            pointer: pointer,
            title: nil,
            description: nil,
            types: types,
            reference: nil,
            properties: [],
            required: [],
            additionalProperties: .absent,
            items: nil,
            enumValues: nil,
            constValue: nil,
            pattern: nil,
            format: nil,
            oneOf: [],
            anyOf: [],
            allOf: [],
            deprecated: false,
            defaultValue: nil,
            definitions: [],
            version: nil
        )
    }

    /// Whether the node only documents: it constrains no value's shape (`{"description": ...}`).
    var isAnnotationOnly: Bool { isConstraintOnly && required.isEmpty }

    /// Whether the node only adds `required` (or documentation) to its context: a union of such
    /// members, `oneOf: [{required: [a]}, {required: [b]}]`, validates and changes no type.
    var isConstraintOnly: Bool {
        types.isEmpty && reference == nil && properties.isEmpty && items == nil && enumValues == nil && constValue == nil
            && pattern == nil && format == nil && oneOf.isEmpty && anyOf.isEmpty && allOf.isEmpty && additionalProperties.isAbsent
    }

    /// Whether the node is a `$ref` and nothing that would make it a type of its own.
    var isPureReference: Bool { reference != nil && properties.isEmpty && allOf.isEmpty }

    /// Whether the node describes an object by its members.
    var hasObjectShape: Bool { !properties.isEmpty || !allOf.isEmpty }
}
