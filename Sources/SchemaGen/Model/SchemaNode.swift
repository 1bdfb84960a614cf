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
