/// The exact error texts of HiveOps contract 1.0.0: clients match on them.
public enum ErrorText {
    public static let invalidJSON = "Invalid JSON message format"
    public static let messageTooLarge = "Message too large"
    public static let rateLimitExceeded = "Rate limit exceeded"
    public static let tooManySubscriptions = "Too many subscriptions requested"
    public static let binaryNotSupported = "Binary messages are not supported"
    public static let notAnObject = "Invalid message format: expected a JSON object with a string \"type\""

    public static func unknownMessageType(_ type: String) -> String { "Unknown message type: \(type)" }
    public static func unknownDataType(_ type: String) -> String { "Unknown data type: \(type)" }
    /// Topics the connection's roles may not subscribe to (sorted, `, `-joined, like invalid subscriptions).
    public static func forbiddenSubscriptions(_ names: [String]) -> String { subscriptions("Forbidden", names) }
    /// The HiveOps error text for unknown names: `Invalid subscription(s): a, b`.
    public static func invalidSubscriptions(_ names: [String]) -> String { subscriptions("Invalid", names) }
    private static func subscriptions(_ kind: String, _ names: [String]) -> String { "\(kind) subscription(s): " + names.joined(separator: ", ") }
}
