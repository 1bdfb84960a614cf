import Foundation

/// What `allOf` means for a property defined in more than one of its members: the values both
/// definitions allow, whatever the order (a `const` narrows a `string`, an `enum` narrows an
/// `enum`), or an error with the pointer when no value fits both.
extension TypeModelBuilder {
    func intersect(_ first: SchemaNode, _ second: SchemaNode, property: String) throws(SchemaGenError) -> SchemaNode {
        if first === second { return first }
        if second.isAnnotationOnly { return annotated(first, from: second) }
        if first.isAnnotationOnly { return annotated(second, from: first) }
        if first.isPureReference, first.reference == second.reference, second.isPureReference { return first }
        let left = try resolve(first)
        let right = try resolve(second)
        if left === right { return first }
        if left.hasObjectShape || right.hasObjectShape {
            // Two descriptions of one object: their members merge as any allOf's do.
            guard !left.isUnion, !right.isUnion, left.nonNullTypes.allSatisfy({ $0 == .object }),
                right.nonNullTypes.allSatisfy({ $0 == .object })
            else { throw conflict(second, property: property, "an object and a value of another shape") }
            if right.isAnnotationOnlyObject { return first }
            if left.isAnnotationOnlyObject { return second }
            return SchemaNode(copying: SchemaNode.empty(at: second.pointer, types: [.object]), allOf: [first, second])
        }
        guard !left.isUnion, !right.isUnion else {
            throw .unsupported(
                pointer: second.pointer,
                message: "allOf defines property \"\(property)\" twice, once as a union; intersecting unions is not supported"
            )
        }
        let types = try intersectTypes(left, right, property: property)
        let enumValues = try intersectEnums(left.enumValues, right.enumValues, at: second, property: property)
        let constValue = try intersectConstants(left, right, enumValues: enumValues, property: property)
        let pattern = try intersectPatterns(left.pattern, right.pattern, constValue: constValue, at: second, property: property)
        let items: SchemaNode?
        switch (left.items, right.items) {
        case (let leftItems?, let rightItems?): items = try intersect(leftItems, rightItems, property: property + "[]")
        case (let only?, nil), (nil, let only?): items = only
        case (nil, nil): items = nil
        }
        let additional: SchemaNode.AdditionalProperties
        switch (left.additionalProperties, right.additionalProperties) {
        case (.schema(let leftValues), .schema(let rightValues)):
            additional = .schema(try intersect(leftValues, rightValues, property: property + "[*]"))
        default: additional = Self.strictest(left.additionalProperties, right.additionalProperties)
        }
        let merged = (
            types: types, enumValues: enumValues, constValue: constValue, pattern: pattern, format: left.format ?? right.format
        )
        // A side that already says all of it keeps its form, a $ref to a named type included.
        for (original, resolved) in [(first, left), (second, right)]
        where resolved.types == merged.types && resolved.enumValues == merged.enumValues && resolved.constValue == merged.constValue
            && resolved.pattern == merged.pattern && resolved.format == merged.format && resolved.items === items
        {
            return annotated(original, from: original === first ? second : first)
        }
        return SchemaNode(
            copying: right,
            pointer: second.pointer,
            types: merged.types,
            reference: .some(nil),
            description: .some(second.description ?? first.description ?? right.description ?? left.description),
            title: .some(nil),
            items: .some(items),
            additionalProperties: additional,
            enumValues: .some(merged.enumValues),
            constValue: .some(merged.constValue),
            pattern: .some(merged.pattern),
            format: .some(merged.format),
            deprecated: first.deprecated || second.deprecated,
            defaultValue: .some(second.defaultValue ?? first.defaultValue)
        )
    }

    /// The node, with the other's documentation where it has none.
    private func annotated(_ node: SchemaNode, from other: SchemaNode) -> SchemaNode {
        guard
            node.description == nil && other.description != nil || !node.deprecated && other.deprecated
                || node.defaultValue == nil && other.defaultValue != nil
        else { return node }
        return SchemaNode(
            copying: node,
            description: .some(node.description ?? other.description),
            deprecated: node.deprecated || other.deprecated,
            defaultValue: .some(node.defaultValue ?? other.defaultValue)
        )
    }

    /// The types both allow (`integer` is a `number`; no type allows any); none in common is an error.
    private func intersectTypes(_ left: SchemaNode, _ right: SchemaNode, property: String) throws(SchemaGenError) -> [SchemaNode.PrimitiveType] {
        if left.types.isEmpty { return right.types }
        if right.types.isEmpty { return left.types }
        var result: [SchemaNode.PrimitiveType] = []
        for type in left.types {
            let isNumeric = { (type: SchemaNode.PrimitiveType) in type == .integer || type == .number }
            let common: SchemaNode.PrimitiveType?
            if right.types.contains(type) {
                common = type
            } else if isNumeric(type), right.types.contains(where: isNumeric) {
                common = .integer
            } else {
                common = nil
            }
            if let common, !result.contains(common) { result.append(common) }
        }
        guard result.contains(where: { $0 != .null }) || (left.nonNullTypes.isEmpty && right.nonNullTypes.isEmpty) else {
            let names = [left, right].map { $0.nonNullTypes.map(\.rawValue).joined(separator: "|") }
            throw conflict(right, property: property, "the types \(names[0]) and \(names[1])", keyword: "type")
        }
        return result
    }

    private func intersectEnums(_ left: [String]?, _ right: [String]?, at node: SchemaNode, property: String) throws(SchemaGenError) -> [String]? {
        guard let left, let right else { return left ?? right }
        let common = left.filter(right.contains)
        guard !common.isEmpty else { throw conflict(node, property: property, "two enums with no value in common", keyword: "enum") }
        return common
    }

    private func intersectConstants(
        _ left: SchemaNode,
        _ right: SchemaNode,
        enumValues: [String]?,
        property: String
    ) throws(SchemaGenError) -> String? {
        let constant: String?
        switch (left.constValue, right.constValue) {
        case (let a?, let b?) where a != b:
            throw conflict(right, property: property, "the constants \"\(a)\" and \"\(b)\"", keyword: "const")
        case (let a, let b): constant = a ?? b
        }
        if let constant, let enumValues, !enumValues.contains(constant) {
            throw conflict(right, property: property, "the constant \"\(constant)\" and an enum without it", keyword: "const")
        }
        return constant
    }

    /// One pattern is kept; with a constant, which must match it, the constant says everything.
    private func intersectPatterns(
        _ left: String?,
        _ right: String?,
        constValue: String?,
        at node: SchemaNode,
        property: String
    ) throws(SchemaGenError) -> String? {
        guard let constValue else {
            if let left, let right, left != right {
                throw .unsupported(pointer: node.pointer + "/pattern", message: "allOf gives property \"\(property)\" two patterns")
            }
            return left ?? right
        }
        for pattern in [left, right].compactMap(\.self) {
            guard let expression = try? NSRegularExpression(pattern: pattern) else {
                throw .invalidSchema(pointer: node.pointer + "/pattern", message: "\"\(pattern)\" is not a regular expression")
            }
            let range = NSRange(constValue.startIndex..., in: constValue)
            guard expression.firstMatch(in: constValue, range: range) != nil else {
                throw conflict(node, property: property, "the constant \"\(constValue)\" and the pattern \(pattern)", keyword: "const")
            }
        }
        return nil
    }

    /// `false` over a schema over `true` over absent: what keeps every member's promise.
    static func strictest(
        _ left: SchemaNode.AdditionalProperties,
        _ right: SchemaNode.AdditionalProperties
    ) -> SchemaNode.AdditionalProperties {
        func rank(_ value: SchemaNode.AdditionalProperties) -> Int {
            switch value {
            case .absent: 0
            case .allowed: 1
            case .schema: 2
            case .forbidden: 3
            }
        }
        return rank(right) > rank(left) ? right : left
    }

    private func conflict(_ node: SchemaNode, property: String, _ what: String, keyword: String? = nil) -> SchemaGenError {
        .invalidSchema(
            pointer: node.pointer + (keyword.map { "/" + $0 } ?? ""),
            message: "allOf gives property \"\(property)\" \(what), which no value satisfies both of"
        )
    }
}

extension SchemaNode {
    fileprivate var isUnion: Bool { !oneOf.isEmpty || !anyOf.isEmpty }

    /// `{"type": "object"}` and nothing more: it adds nothing to an object it meets.
    fileprivate var isAnnotationOnlyObject: Bool {
        nonNullTypes == [.object] && properties.isEmpty && allOf.isEmpty && additionalProperties.isAbsent
    }
}
