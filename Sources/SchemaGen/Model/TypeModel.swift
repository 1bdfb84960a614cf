/// The language-neutral model both renderers read: named declarations and the
/// type references between them.
public struct TypeModel: Equatable, Sendable {
    /// The contract version from the schema's root `version` key.
    public var version: String?
    /// The declarations in schema order.
    public var declarations: [TypeDeclaration]
}

/// A reference to a type, as a property or an array element uses it.
public indirect enum TypeReference: Equatable, Sendable {
    case string
    case integer
    case number
    case boolean
    /// Any JSON value.
    case json
    case named(String)
    case array(TypeReference)
    /// An object with arbitrary keys, all values of one type.
    case dictionary(TypeReference)
    /// The value may also be JSON `null`.
    case nullable(TypeReference)
}

public struct Documentation: Equatable, Sendable {
    public var summary: String?
    public var deprecated: Bool = false
    /// The default value as JSON text, for documentation.
    public var defaultValue: String?
}

public struct PropertyDeclaration: Equatable, Sendable {
    /// The property name on the wire.
    public var jsonName: String
    /// Its Swift name, chosen once for the whole object (``TypeModelBuilder``): unique within the
    /// type and clear of the names the generated code uses itself.
    public var swiftName: String
    public var type: TypeReference
    public var isRequired: Bool
    /// A `const` value: the property always holds this string.
    public var constant: String?
    /// A `pattern` on a string property, kept for the TypeScript rendering of tags.
    public var pattern: String?
    /// A default used when the key is absent.
    public var defaultValue: JSONDocument?
    /// Set when the property's type contains its owner by value, so that
    /// Swift must store it indirectly.
    public var isRecursive: Bool = false
    public var documentation: Documentation
}

public enum UnknownKeys: Equatable, Sendable {
    /// Unknown keys are allowed and dropped on decode.
    case ignored
    /// Unknown keys are kept in a dictionary of this value type.
    case kept(TypeReference)
    /// Unknown keys make decoding fail.
    case rejected
}

public struct ObjectDeclaration: Equatable, Sendable {
    public var name: String
    public var properties: [PropertyDeclaration]
    public var unknownKeys: UnknownKeys
    public var documentation: Documentation
}

public struct StringEnumDeclaration: Equatable, Sendable {
    public var name: String
    public var values: [String]
    public var documentation: Documentation
}

public struct AliasDeclaration: Equatable, Sendable {
    public var name: String
    public var target: TypeReference
    public var documentation: Documentation
}

/// A `oneOf` whose members are objects told apart by one property.
public struct TaggedUnionDeclaration: Equatable, Sendable {
    public enum Tag: Equatable, Sendable {
        case constant(String)
        case pattern(String)
    }

    public struct Member: Equatable, Sendable {
        public var typeName: String
        public var tag: Tag
        /// The member's other `const` properties, in schema order: what choosing the member fixes
        /// besides its tag (the `subscription` of a `critical_alert` is always `alerts`).
        public var constants: [Constant] = []
    }

    public struct Constant: Equatable, Sendable {
        public var jsonName: String
        public var value: String
    }

    /// A property that every member has with the same type (the tag aside): the union offers it
    /// too, optional, since a frame of an unknown tag may lack it.
    public struct SharedProperty: Equatable, Sendable {
        public var jsonName: String
        /// The members' Swift name for it.
        public var swiftName: String
        /// The members' type, without its optionality.
        public var type: TypeReference
        /// Whether the type is a string (or a name for one): then an unknown frame's value is read too.
        public var isString: Bool
        public var documentation: Documentation
    }

    public var name: String
    /// The JSON name of the property that tells the members apart.
    public var tagProperty: String
    /// The members' Swift name for it.
    public var tagSwiftName: String
    public var members: [Member]
    public var sharedProperties: [SharedProperty] = []
    /// Whether a member contains the union by value, so that Swift needs `indirect`.
    public var isRecursive: Bool = false
    public var documentation: Documentation
}

/// An `anyOf`, or a `oneOf` without a tag: the first alternative that decodes wins.
public struct UntaggedUnionDeclaration: Equatable, Sendable {
    public var name: String
    public var alternatives: [TypeReference]
    public var isRecursive: Bool = false
    public var documentation: Documentation
}

public enum TypeDeclaration: Equatable, Sendable {
    case object(ObjectDeclaration)
    case stringEnum(StringEnumDeclaration)
    case alias(AliasDeclaration)
    case taggedUnion(TaggedUnionDeclaration)
    case untaggedUnion(UntaggedUnionDeclaration)

    public var name: String {
        switch self {
        case .object(let declaration): declaration.name
        case .stringEnum(let declaration): declaration.name
        case .alias(let declaration): declaration.name
        case .taggedUnion(let declaration): declaration.name
        case .untaggedUnion(let declaration): declaration.name
        }
    }
}
