import Foundation

/// A decoding error as a producer can act on it: where in the JSON, and what was wrong
/// (`data.alerts[1] must be an object`, `envelope.type is required`), instead of Foundation's
/// wording, which names Swift types and varies between versions.
package enum DecodingErrorDescription {
    /// - Parameter root: how the decoded value is named in the text (`data`, `envelope`).
    package static func describe(_ error: any Error, root: String) -> String {
        guard let error = error as? DecodingError else { return "\(root): \(error)" }
        let (path, reason): ([any CodingKey], String) =
            switch error {
            case .keyNotFound(let key, let context): (context.codingPath + [key], "is required")
            case .typeMismatch(let type, let context): (context.codingPath, "must be \(jsonKind(type))")
            case .valueNotFound(_, let context): (context.codingPath, "must not be null")
            case .dataCorrupted(let context) where context.codingPath.isEmpty: ([], "is not JSON")
            case .dataCorrupted(let context): (context.codingPath, context.debugDescription)
            @unknown default: ([], "\(error)")
            }
        let keys = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }
        return "\(root)\(keys.joined()) \(reason)"
    }

    private static func jsonKind(_ type: Any.Type) -> String {
        let name = String(describing: type)
        if name.hasPrefix("Array") { return "an array" }
        if name.hasPrefix("Dictionary") { return "an object" }
        if name.hasPrefix("String") { return "a string" }
        if name.hasPrefix("Bool") { return "a boolean" }
        return "a number"
    }
}
