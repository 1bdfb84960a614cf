/// The exact error texts of HiveOps contract 1.0.0: clients match on them.
package enum ErrorText {
    package static let invalidJSON = "Invalid JSON message format"
    package static let messageTooLarge = "Message too large"
    package static let rateLimitExceeded = "Rate limit exceeded"
    package static let tooManySubscriptions = "Too many subscriptions requested"
    package static let binaryNotSupported = "Binary messages are not supported"
    package static let notAnObject = "Invalid message format: expected a JSON object with a string \"type\""

    package static func unknownMessageType(_ type: String) -> String { "Unknown message type: \(type)" }
    package static func unknownDataType(_ type: String) -> String { "Unknown data type: \(type)" }
    /// Topics the connection's roles may not subscribe to (sorted, `, `-joined, like invalid subscriptions).
    package static func forbiddenSubscriptions(_ names: [String]) -> String { subscriptions("Forbidden", names) }
    /// The HiveOps error text for unknown names: `Invalid subscription(s): a, b`.
    package static func invalidSubscriptions(_ names: [String]) -> String { subscriptions("Invalid", names) }
    /// Recovery offsets that are not `topic:offset` with a known topic and a whole number from 0 (new in 1.2.0).
    package static func invalidOffsets(_ entries: [String]) -> String { "Invalid offsets: " + entries.joined(separator: ", ") }
    private static func subscriptions(_ kind: String, _ names: [String]) -> String { "\(kind) subscription(s): " + names.joined(separator: ", ") }
}
