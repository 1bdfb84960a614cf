/// Resolves references, flattens `allOf`, names inline types and finds
/// recursion: the schema tree in, a ``TypeModel`` out.
public struct TypeModelBuilder {
    private let root: SchemaNode
    /// `#/$defs/Name` (or `#/definitions/Name`) → the node and its type name.
    private var definitions: [String: (node: SchemaNode, name: String)] = [:]
    private var declarations: [TypeDeclaration] = []
    /// Type name → the pointer that claimed it: every name is claimed once (``claim(_:pointer:)``).
    private var declaredNames: [String: String] = [:]
    private var takenNames: Set<String> = []

    private init(root: SchemaNode) {
        self.root = root
    }

    /// - Parameter rootName: the name of a root schema that describes a value itself, when it has
    ///   no `title` (the CLI passes the schema file's name).
    public static func build(_ root: SchemaNode, rootName: String = "Root") throws(SchemaGenError) -> TypeModel {
        var builder = TypeModelBuilder(root: root)
        builder.nameDefinitions()
        if !root.isAnnotationOnly {
            // The root is a schema like any other: it becomes a type, and `$ref: "#"` names it.
            let name = builder.claim(Naming.declarableTypeName(Naming.typeName(root.title ?? rootName)), pointer: root.pointer)
            builder.definitions[root.pointer] = (root, name)
            try builder.declareDefinition(root, name: name)
        }
        for (_, node) in root.definitions {
            try builder.declareDefinition(node, name: builder.definitions[node.pointer]!.name)
        }
        try builder.rejectAliasCycles()
        builder.markRecursion()
        builder.completeTaggedUnions()
        return TypeModel(version: root.version, declarations: builder.declarations)
    }

    // MARK: - Naming

    /// Names every definition before any inline type takes a name, deterministically: a
    /// definition whose key (or title) already is its type name keeps it, the others in document
    /// order take it or the first free numbered form (`foo-bar` and `foo_bar` become `FooBar` and
    /// `FooBar2`; `$defs/A` beside `definitions/A` become `A` and `A2`).
    private mutating func nameDefinitions() {
        let candidates = root.definitions.map { key, node in
            let raw = node.title ?? key
            return (node: node, raw: raw, name: Naming.declarableTypeName(Naming.typeName(raw)))
        }
        for candidate in candidates where candidate.raw == candidate.name && !takenNames.contains(candidate.name) {
            definitions[candidate.node.pointer] = (candidate.node, claim(candidate.name, pointer: candidate.node.pointer))
        }
        for candidate in candidates where definitions[candidate.node.pointer] == nil {
            definitions[candidate.node.pointer] = (candidate.node, claim(candidate.name, pointer: candidate.node.pointer))
        }
    }

    /// `name`, or its first free numbered form, recorded as the pointer's.
    private mutating func claim(_ name: String, pointer: String) -> String {
        let unique = Naming.unique(name, in: &takenNames)
        declaredNames[unique] = pointer
        return unique
    }

    // MARK: - Declarations

    private mutating func declareDefinition(_ node: SchemaNode, name: String) throws(SchemaGenError) {
        if needsDeclaration(node) {
            try declare(node, name: name)
        } else {
            let slot = declarations.count
            let target = try reference(for: node, suggestedName: name, allowDeclaration: false)
            declarations.insert(.alias(AliasDeclaration(name: name, target: target, documentation: documentation(node))), at: slot)
        }
    }

    /// Whether a node becomes a named type of its own rather than a reference to one.
    private func needsDeclaration(_ node: SchemaNode) -> Bool {
        guard node.reference == nil || !node.allOf.isEmpty || !node.properties.isEmpty else { return false }
        return !node.allOf.isEmpty || !node.properties.isEmpty || !node.oneOf.isEmpty || !node.anyOf.isEmpty
            || node.nonNullTypes.count > 1
            || node.enumValues != nil
            || (node.nonNullTypes == [.object] && isForbidden(node.additionalProperties))
    }

    private func isForbidden(_ additional: SchemaNode.AdditionalProperties) -> Bool {
        if case .forbidden = additional { return true }
        return false
    }

    /// Declares a named type for the node under a name already claimed; the owner comes before
    /// the inline types it declares.
    private mutating func declare(_ node: SchemaNode, name: String) throws(SchemaGenError) {
        try rejectDroppedContent(node)
        let slot = declarations.count
        let declaration: TypeDeclaration
        let members = node.oneOf.isEmpty ? node.anyOf : node.oneOf
        if node.nonNullTypes.count > 1 {
            guard members.isEmpty, node.allOf.isEmpty else {
                throw .unsupported(pointer: node.pointer + "/type", message: "several types beside oneOf, anyOf or allOf are not supported")
            }
            declaration = try union(node, members: node.nonNullTypes.map { Self.narrowed(node, to: $0) }, name: name, tagged: false)
        } else if !members.isEmpty, !members.allSatisfy(\.isConstraintOnly) {
            let distributed = node.hasObjectShape ? distribute(node, over: members) : members
            declaration = try union(node, members: distributed, name: name, tagged: !node.oneOf.isEmpty)
        } else if let values = node.enumValues {
            guard node.nonNullTypes.isEmpty || node.nonNullTypes == [.string] else {
                throw .unsupported(pointer: node.pointer + "/enum", message: "only string enums are supported")
            }
            declaration = .stringEnum(StringEnumDeclaration(name: name, values: values, documentation: documentation(node)))
        } else {
            declaration = .object(try object(node, name: name))
        }
        declarations.insert(declaration, at: slot)
    }

    /// `type: [string, object]` is an `anyOf` of one member per type, each with the keywords that
    /// apply to its type (JSON Schema applies `properties` only to objects, `items` only to arrays...).
    private static func narrowed(_ node: SchemaNode, to type: SchemaNode.PrimitiveType) -> SchemaNode {
        SchemaNode(
            copying: node,
            pointer: node.pointer + "/type/" + type.rawValue,
            types: [type],
            description: .some(nil),
            title: .some(nil),
            items: .some(type == .array ? node.items : nil),
            properties: type == .object ? node.properties : [],
            required: type == .object ? node.required : [],
            additionalProperties: type == .object ? node.additionalProperties : .absent,
            enumValues: .some(type == .string ? node.enumValues : nil),
            constValue: .some(type == .string ? node.constValue : nil),
            pattern: .some(type == .string ? node.pattern : nil),
            format: .some(type == .string ? node.format : nil),
            defaultValue: .some(nil)
        )
    }

    /// Refuses a node whose keywords would not all reach the generated type, instead of dropping some.
    private func rejectDroppedContent(_ node: SchemaNode) throws(SchemaGenError) {
        if !node.oneOf.isEmpty, !node.anyOf.isEmpty {
            throw .unsupported(pointer: node.pointer + "/anyOf", message: "oneOf and anyOf on one node are not supported")
        }
        if node.enumValues != nil, !node.oneOf.isEmpty || !node.anyOf.isEmpty || node.hasObjectShape {
            throw .unsupported(pointer: node.pointer + "/enum", message: "an enum beside properties, allOf, oneOf or anyOf is not supported")
        }
        if node.hasObjectShape, node.nonNullTypes.count == 1, let type = node.nonNullTypes.first, type != .object {
            throw .invalidSchema(pointer: node.pointer + "/type", message: "properties or allOf on a node of type \(type.rawValue)")
        }
    }

    /// `properties` beside a `oneOf` apply to every member (P ∧ (A ∨ B) = (P ∧ A) ∨ (P ∧ B)): each
    /// member becomes the intersection of the node's own object and itself.
    private func distribute(_ node: SchemaNode, over members: [SchemaNode]) -> [SchemaNode] {
        let shared = SchemaNode(copying: node, title: .some(nil), oneOf: [], anyOf: [])
        return members.map { member in
            SchemaNode(
                copying: shared,
                pointer: member.pointer,
                description: .some(member.description),
                title: .some(member.title),
                properties: [],
                required: [],
                allOf: [shared, member]
            )
        }
    }

    private mutating func object(_ node: SchemaNode, name: String) throws(SchemaGenError) -> ObjectDeclaration {
        let flattened = try flatten(node)
        var properties: [PropertyDeclaration] = []
        for (jsonName, schema) in flattened.properties {
            properties.append(
                try property(jsonName, schema: schema, owner: name, isRequired: flattened.required.contains(jsonName))
            )
        }
        let unknownKeys: UnknownKeys
        switch flattened.additionalProperties {
        // An object that names no member is any object, kept whole as `{"type": "object"}` alone is;
        // ignoring its unknown members would drop all of them.
        case .absent: unknownKeys = flattened.properties.isEmpty ? .kept(.json) : .ignored
        case .allowed: unknownKeys = .kept(.json)
        case .forbidden: unknownKeys = .rejected
        case .schema(let schema):
            unknownKeys = .kept(try reference(for: schema, suggestedName: name + "Value"))
        }
        return ObjectDeclaration(
            name: name,
            properties: Self.namingSwiftMembers(properties),
            unknownKeys: unknownKeys,
            documentation: documentation(node)
        )
    }

    /// Names the generated code uses inside every type: a property may not take them.
    static let reservedMemberNames: Set<String> = ["self", "container", "encoder", "decoder", "additionalProperties"]

    /// Gives every property a Swift name of its own, deterministically: a JSON name that already is
    /// its Swift name keeps it; the others, in order, take it or the first free numbered form
    /// (`a-b`, `a_b` and `aB` become `aB2`, `aB3` and `aB`; `@id` beside `id` becomes `id2`).
    static func namingSwiftMembers(_ properties: [PropertyDeclaration]) -> [PropertyDeclaration] {
        var taken = reservedMemberNames
        var named = properties
        for index in named.indices where named[index].jsonName == named[index].swiftName && !taken.contains(named[index].swiftName) {
            taken.insert(named[index].swiftName)
        }
        for index in named.indices {
            let base = named[index].swiftName
            if named[index].jsonName == base, !reservedMemberNames.contains(base) { continue }
            named[index].swiftName = Naming.unique(base, in: &taken)
        }
        return named
    }

    private struct FlattenedObject {
        var properties: [(name: String, schema: SchemaNode)] = []
        var required: Set<String> = []
        var additionalProperties: SchemaNode.AdditionalProperties = .absent
    }

    /// The node's own properties, then those of each `allOf` member, depth first; a property
    /// defined more than once takes the intersection of its definitions, in whatever order
    /// (``intersect(_:_:property:)``).
    private func flatten(_ node: SchemaNode, visiting: Set<ObjectIdentifier> = []) throws(SchemaGenError) -> FlattenedObject {
        if visiting.contains(ObjectIdentifier(node)) {
            throw .invalidSchema(pointer: node.pointer, message: "allOf refers back to itself")
        }
        var result = FlattenedObject()
        result.properties = node.properties
        result.required = Set(node.required)
        result.additionalProperties = node.additionalProperties
        for member in node.allOf {
            let target = try resolve(member)
            guard target.oneOf.isEmpty, target.anyOf.isEmpty, target.enumValues == nil else {
                throw .unsupported(pointer: member.pointer, message: "allOf members must be objects")
            }
            let nested = try flatten(target, visiting: visiting.union([ObjectIdentifier(node)]))
            for property in nested.properties {
                if let index = result.properties.firstIndex(where: { $0.name == property.name }) {
                    result.properties[index].schema = try intersect(result.properties[index].schema, property.schema, property: property.name)
                } else {
                    result.properties.append(property)
                }
            }
            result.required.formUnion(nested.required)
            result.additionalProperties = Self.strictest(result.additionalProperties, nested.additionalProperties)
        }
        return result
    }

    private mutating func property(
        _ jsonName: String,
        schema: SchemaNode,
        owner: String,
        isRequired: Bool
    )
        throws(SchemaGenError) -> PropertyDeclaration
    {
        let type: TypeReference
        if schema.constValue != nil {
            type = .string
        } else {
            type = try reference(for: schema, suggestedName: owner + Naming.typeName(jsonName))
        }
        // `default` is an annotation: one that no Swift literal of the type gives (an object, a
        // non-empty array, a value of another type) is documented only, and the member stays optional.
        let defaultValue = schema.defaultValue.flatMap { defaultFits($0, type: type) ? $0 : nil }
        return PropertyDeclaration(
            jsonName: jsonName,
            swiftName: Naming.memberName(jsonName),
            type: type,
            isRequired: isRequired,
            constant: schema.constValue,
            pattern: schema.pattern,
            defaultValue: defaultValue,
            documentation: documentation(schema)
        )
    }

    private func defaultFits(_ value: JSONDocument, type: TypeReference) -> Bool {
        switch (type, value) {
        case (.string, .string), (.number, .number), (.boolean, .bool): true
        case (.integer, .number(let text)): Int(text) != nil
        case (.named(let name), .string(let text)):
            declarations.contains {
                if case .stringEnum(let declaration) = $0 { return declaration.name == name && declaration.values.contains(text) }
                return false
            } || definitions.values.contains { $0.name == name && $0.node.enumValues?.contains(text) == true }
        case (.array, .array(let elements)): elements.isEmpty
        default: false
        }
    }

    private mutating func union(
        _ node: SchemaNode,
        members: [SchemaNode],
        name: String,
        tagged: Bool
    )
        throws(SchemaGenError) -> TypeDeclaration
    {
        if tagged, let tagProperty = try tagProperty(of: members) {
            var unionMembers: [TaggedUnionDeclaration.Member] = []
            var seenConstants: Set<String> = []
            for (index, member) in members.enumerated() {
                guard case .named(let typeName) = try reference(for: member, suggestedName: name + "Option\(index + 1)")
                else {
                    throw .unsupported(pointer: member.pointer, message: "tagged union members must be objects")
                }
                let tagSchema = try flatten(try resolve(member)).properties.first { $0.name == tagProperty }!.schema
                let tag: TaggedUnionDeclaration.Tag
                if let constant = tagSchema.constValue {
                    guard seenConstants.insert(constant).inserted else {
                        throw .invalidSchema(pointer: member.pointer, message: "tag \"\(constant)\" is used twice")
                    }
                    tag = .constant(constant)
                } else {
                    tag = .pattern(tagSchema.pattern!)
                }
                unionMembers.append(.init(typeName: typeName, tag: tag))
            }
            return .taggedUnion(
                TaggedUnionDeclaration(
                    name: name,
                    tagProperty: tagProperty,
                    tagSwiftName: Naming.memberName(tagProperty),
                    members: unionMembers,
                    documentation: documentation(node)
                )
            )
        }
        var alternatives: [TypeReference] = []
        for (index, member) in members.enumerated() {
            let alternative = try reference(for: member, suggestedName: name + "Option\(index + 1)")
            // Two alternatives of one type are one: the second could never decode.
            if !alternatives.contains(alternative) { alternatives.append(alternative) }
        }
        return .untaggedUnion(
            UntaggedUnionDeclaration(name: name, alternatives: alternatives, documentation: documentation(node))
        )
    }

    /// The property every member requires with a `const` (or, for one member, a
    /// `pattern`) value: `type` when it qualifies, else the first that does.
    private func tagProperty(of members: [SchemaNode]) throws(SchemaGenError) -> String? {
        var flattenedMembers: [FlattenedObject] = []
        for member in members {
            let target = try resolve(member)
            guard target.oneOf.isEmpty, target.anyOf.isEmpty, target.enumValues == nil,
                !target.properties.isEmpty || !target.allOf.isEmpty
            else { return nil }
            flattenedMembers.append(try flatten(target))
        }
        guard let first = flattenedMembers.first else { return nil }
        let candidates = first.properties.map(\.name).filter { name in
            var patternMembers = 0
            for member in flattenedMembers {
                guard member.required.contains(name),
                    let schema = member.properties.first(where: { $0.name == name })?.schema
                else { return false }
                if schema.constValue != nil { continue }
                guard schema.pattern != nil else { return false }
                patternMembers += 1
            }
            return patternMembers <= 1
        }
        return candidates.contains("type") ? "type" : candidates.first
    }

    // MARK: - References

    /// The type a node stands for, declaring inline named types as needed.
    private mutating func reference(
        for node: SchemaNode,
        suggestedName: String,
        allowDeclaration: Bool = true
    )
        throws(SchemaGenError) -> TypeReference
    {
        let base: TypeReference
        if let reference = node.reference, node.allOf.isEmpty, node.properties.isEmpty {
            base = .named(try definition(reference, pointer: node.pointer).name)
        } else if allowDeclaration && needsDeclaration(node) {
            let name = claim(Naming.declarableTypeName(node.title.map(Naming.typeName) ?? suggestedName), pointer: node.pointer)
            try declare(node, name: name)
            base = .named(name)
        } else {
            switch node.nonNullTypes.first {
            case .string: base = .string
            case .integer: base = .integer
            case .number: base = .number
            case .boolean: base = .boolean
            case .array:
                base = .array(
                    try node.items.map { items throws(SchemaGenError) in
                        try reference(for: items, suggestedName: suggestedName + "Item")
                    } ?? .json
                )
            case .object:
                if case .schema(let values) = node.additionalProperties {
                    base = .dictionary(try reference(for: values, suggestedName: suggestedName + "Value"))
                } else {
                    base = .dictionary(.json)
                }
            case .null, nil:
                base = node.constValue != nil ? .string : .json
            }
        }
        return node.isNullable && base != .json ? .nullable(base) : base
    }

    private func definition(_ reference: String, pointer: String) throws(SchemaGenError) -> (node: SchemaNode, name: String) {
        guard let definition = definitions[reference] else {
            for keyword in SchemaParser.definitionKeywords {
                let prefix = "#/\(keyword)/"
                if reference.hasPrefix(prefix), !reference.dropFirst(prefix.count).contains("/") {
                    throw .unresolvableReference(pointer: pointer, reference: reference)
                }
            }
            throw .unsupported(pointer: pointer + "/$ref", message: "\"\(reference)\" must point at a member of $defs or definitions")
        }
        return definition
    }

    /// The node a `$ref` points at, or the node itself.
    func resolve(_ node: SchemaNode) throws(SchemaGenError) -> SchemaNode {
        guard let reference = node.reference, node.allOf.isEmpty, node.properties.isEmpty else { return node }
        return try resolve(definition(reference, pointer: node.pointer).node)
    }

    private func documentation(_ node: SchemaNode) -> Documentation {
        Documentation(summary: node.description, deprecated: node.deprecated, defaultValue: node.defaultValue.map(Self.jsonText))
    }

    static func jsonText(_ value: JSONDocument) -> String {
        switch value {
        case .null: "null"
        case .bool(let bool): bool ? "true" : "false"
        case .number(let text): text
        case .string(let string): StringLiteral.json(string)
        case .array(let elements): "[" + elements.map(jsonText).joined(separator: ", ") + "]"
        case .object(let members):
            "{" + members.map { StringLiteral.json($0.key) + ": " + jsonText($0.value) }.joined(separator: ", ") + "}"
        }
    }

    // MARK: - Recursion

    /// Marks properties and unions that contain their owner by value: Swift
    /// stores those indirectly, or the type would have infinite size.
    /// A type alias that reaches itself through aliases alone: `A = B`, `B = A` (a `$ref` cycle
    /// with no type in between, which describes no value), or `Tree = [Tree]` (which Swift cannot
    /// declare as a typealias). Refused with the pointer, instead of emitting code that does not compile.
    private func rejectAliasCycles() throws(SchemaGenError) {
        var aliases: [String: TypeReference] = [:]
        for case .alias(let alias) in declarations { aliases[alias.name] = alias.target }
        /// The aliases a type names, each with whether an array or dictionary stands between.
        func named(in type: TypeReference, container: Bool = false) -> [(name: String, container: Bool)] {
            switch type {
            case .named(let name): aliases[name] == nil ? [] : [(name, container)]
            case .array(let element), .dictionary(let element): named(in: element, container: true)
            case .nullable(let element): named(in: element, container: container)
            default: []
            }
        }
        for case .alias(let alias) in declarations {
            // Depth first from the alias, with the path so far and whether it crossed a container.
            var stack = named(in: alias.target).map { (name: $0.name, container: $0.container, path: [alias.name]) }
            var seen: Set<String> = []
            while let (name, container, path) = stack.popLast() {
                if name == alias.name {
                    let pointer = declaredNames[alias.name] ?? alias.name
                    guard container else {
                        let cycle = (path + [name]).joined(separator: " → ")
                        throw .invalidSchema(pointer: pointer, message: "a $ref cycle with no type in between (\(cycle))")
                    }
                    throw .unsupported(
                        pointer: pointer,
                        message: "an array or dictionary of itself cannot be a Swift type alias; wrap it in an object"
                    )
                }
                guard seen.insert(name).inserted, let target = aliases[name] else { continue }
                stack += named(in: target).map { (name: $0.name, container: container || $0.container, path: path + [name]) }
            }
        }
    }

    /// What a tagged union knows once its members are declared: the properties every member has
    /// alike, so that the union offers them (for example `correlation_id` on every server frame),
    /// and the constants each member fixes, so that no consumer writes either table by hand.
    private mutating func completeTaggedUnions() {
        let byName = Dictionary(declarations.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func base(_ type: TypeReference) -> TypeReference {
            if case .nullable(let wrapped) = type { return wrapped }
            return type
        }
        func isString(_ type: TypeReference) -> Bool {
            switch type {
            case .string: return true
            case .named(let name):
                if case .alias(let alias) = byName[name] { return isString(base(alias.target)) }
                return false
            default: return false
            }
        }
        declarations = declarations.map { declaration in
            guard case .taggedUnion(var union) = declaration else { return declaration }
            let members = union.members.compactMap { member -> ObjectDeclaration? in
                if case .object(let object) = byName[member.typeName] { return object }
                return nil
            }
            guard members.count == union.members.count, let first = members.first else { return declaration }
            for (index, member) in members.enumerated() {
                union.members[index].constants = member.properties.compactMap { property in
                    guard property.jsonName != union.tagProperty, let value = property.constant else { return nil }
                    return .init(jsonName: property.jsonName, value: value)
                }
            }
            if let tag = first.properties.first(where: { $0.jsonName == union.tagProperty }) { union.tagSwiftName = tag.swiftName }
            union.sharedProperties = first.properties.compactMap { property in
                guard property.jsonName != union.tagProperty, property.constant == nil else { return nil }
                let type = base(property.type)
                let everywhere = members.dropFirst().allSatisfy { member in
                    member.properties.contains {
                        $0.jsonName == property.jsonName && $0.swiftName == property.swiftName && $0.constant == nil && base($0.type) == type
                    }
                }
                guard everywhere else { return nil }
                return .init(
                    jsonName: property.jsonName,
                    swiftName: property.swiftName,
                    type: type,
                    isString: isString(type),
                    documentation: property.documentation
                )
            }
            return .taggedUnion(union)
        }
    }

    private mutating func markRecursion() {
        let byName = Dictionary(declarations.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func valueTarget(_ type: TypeReference) -> String? {
            switch type {
            case .named(let name): name
            case .nullable(let wrapped): valueTarget(wrapped)
            default: nil
            }
        }
        func successors(_ name: String) -> [String] {
            switch byName[name] {
            case .object(let declaration): declaration.properties.compactMap { valueTarget($0.type) }
            case .alias(let declaration): valueTarget(declaration.target).map { [$0] } ?? []
            case .taggedUnion(let declaration): declaration.members.map(\.typeName)
            case .untaggedUnion(let declaration): declaration.alternatives.compactMap(valueTarget)
            case .stringEnum, nil: []
            }
        }
        func reaches(_ start: String, _ goal: String) -> Bool {
            var seen: Set<String> = []
            var stack = [start]
            while let name = stack.popLast() {
                if name == goal { return true }
                if seen.insert(name).inserted { stack.append(contentsOf: successors(name)) }
            }
            return false
        }
        declarations = declarations.map { declaration in
            switch declaration {
            case .object(var object):
                for index in object.properties.indices {
                    if let target = valueTarget(object.properties[index].type), reaches(target, object.name) {
                        object.properties[index].isRecursive = true
                    }
                }
                return .object(object)
            case .taggedUnion(var union):
                union.isRecursive = union.members.contains { reaches($0.typeName, union.name) }
                return .taggedUnion(union)
            case .untaggedUnion(var union):
                union.isRecursive = union.alternatives.contains { valueTarget($0).map { reaches($0, union.name) } ?? false }
                return .untaggedUnion(union)
            case .stringEnum, .alias:
                return declaration
            }
        }
    }
}
