/// Everything that can make generation fail, each with enough context to fix the schema.
public enum SchemaGenError: Error, Equatable, CustomStringConvertible {
    /// The schema file is not valid JSON.
    case malformedJSON(message: String, line: Int, column: Int)
    /// A node uses a keyword or a shape the generator cannot honour.
    case unsupported(pointer: String, message: String)
    /// A `$ref` that does not point into this document.
    case unresolvableReference(pointer: String, reference: String)
    /// A node is well-formed JSON but not a valid schema.
    case invalidSchema(pointer: String, message: String)

    public var description: String {
        switch self {
        case .malformedJSON(let message, let line, let column):
            "malformed JSON at line \(line), column \(column): \(message)"
        case .unsupported(let pointer, let message):
            "unsupported schema at \(pointer): \(message)"
        case .unresolvableReference(let pointer, let reference):
            "unresolvable $ref \"\(reference)\" at \(pointer)"
        case .invalidSchema(let pointer, let message):
            "invalid schema at \(pointer): \(message)"
        }
    }
}
