public import NIOCore

/// A value of the Redis serialization protocol, RESP2 and RESP3.
public indirect enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    case error(String)
    case integer(Int64)
    case bulkString(ByteBuffer?)
    case array([RESPValue]?)
    // RESP3
    case null
    case double(Double)
    case boolean(Bool)
    case bigNumber(String)
    case verbatimString(String)
    case map([(key: RESPValue, value: RESPValue)])
    case set([RESPValue])
    /// A push frame (`>`): pub/sub messages under RESP3.
    case push([RESPValue])
    case attribute([(key: RESPValue, value: RESPValue)])

    public static func == (lhs: RESPValue, rhs: RESPValue) -> Bool {
        switch (lhs, rhs) {
        case (.simpleString(let a), .simpleString(let b)), (.error(let a), .error(let b)), (.bigNumber(let a), .bigNumber(let b)),
            (.verbatimString(let a), .verbatimString(let b)):
            a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.bulkString(let a), .bulkString(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.null, .null): true
        case (.double(let a), .double(let b)): a == b || (a.isNaN && b.isNaN)
        case (.boolean(let a), .boolean(let b)): a == b
        case (.set(let a), .set(let b)), (.push(let a), .push(let b)): a == b
        case (.map(let a), .map(let b)), (.attribute(let a), .attribute(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// The value as text, for strings of any kind.
    public var string: String? {
        switch self {
        case .simpleString(let value), .verbatimString(let value): value
        case .bulkString(let buffer?): String(buffer: buffer)
        default: nil
        }
    }

    /// The elements of an array, set or push.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let values?), .set(let values), .push(let values): values
        default: nil
        }
    }
}
