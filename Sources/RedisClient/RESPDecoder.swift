public import NIOCore

/// An incremental RESP2/RESP3 decoder with limits: it returns nil until a whole
/// value has arrived, and fails (never crashes) on malformed input or a value
/// past a limit. A failure is fatal for the connection it came from.
public struct RESPDecoder: Sendable {
    public struct Limits: Sendable, Equatable {
        /// The longest bulk string, in bytes.
        public var maxBulkLength: Int
        /// The deepest nesting of aggregates.
        public var maxDepth: Int
        /// The most elements in one aggregate.
        public var maxAggregateCount: Int
        /// The longest simple line (simple strings, errors, numbers).
        public var maxLineLength: Int

        public init(maxBulkLength: Int = 64 << 20, maxDepth: Int = 32, maxAggregateCount: Int = 1 << 20, maxLineLength: Int = 64 << 10) {
            self.maxBulkLength = maxBulkLength
            self.maxDepth = maxDepth
            self.maxAggregateCount = maxAggregateCount
            self.maxLineLength = maxLineLength
        }
    }

    public enum DecodingError: Error, Equatable {
        case unknownType(UInt8)
        case malformed(String)
        case limitExceeded(String)
    }

    public let limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Decodes one value from the front of `buffer`, consuming it; nil (and nothing consumed) when incomplete.
    public func decode(_ buffer: inout ByteBuffer) throws(DecodingError) -> RESPValue? {
        var copy = buffer
        guard let value = try parse(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    private func parse(_ buffer: inout ByteBuffer, depth: Int) throws(DecodingError) -> RESPValue? {
        guard depth <= limits.maxDepth else { throw .limitExceeded("nesting deeper than \(limits.maxDepth)") }
        guard let type = buffer.readInteger(as: UInt8.self) else { return nil }
        switch type {
        case UInt8(ascii: "+"):
            return try line(&buffer).map(RESPValue.simpleString)
        case UInt8(ascii: "-"):
            return try line(&buffer).map(RESPValue.error)
        case UInt8(ascii: ":"):
            guard let text = try line(&buffer) else { return nil }
            guard let value = Int64(text) else { throw .malformed("integer \"\(text.prefix(32))\"") }
            return .integer(value)
        case UInt8(ascii: "$"):
            guard let length = try length(&buffer) else { return nil }
            if length < 0 { return .bulkString(nil) }
            guard let bytes = try blob(&buffer, length: length) else { return nil }
            return .bulkString(bytes)
        case UInt8(ascii: "="):
            guard let length = try length(&buffer) else { return nil }
            guard length >= 0, let bytes = try blob(&buffer, length: length) else { return length < 0 ? .null : nil }
            // "txt:" then the text.
            let text = String(buffer: bytes)
            return .verbatimString(text.count >= 4 ? String(text.dropFirst(4)) : text)
        case UInt8(ascii: "!"):
            guard let length = try length(&buffer) else { return nil }
            guard length >= 0, let bytes = try blob(&buffer, length: length) else { return length < 0 ? .null : nil }
            return .error(String(buffer: bytes))
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"):
            guard let count = try length(&buffer) else { return nil }
            if count < 0 { return type == UInt8(ascii: "*") ? .array(nil) : .null }
            guard let elements = try aggregate(&buffer, count: count, depth: depth) else { return nil }
            switch type {
            case UInt8(ascii: "*"): return .array(elements)
            case UInt8(ascii: "~"): return .set(elements)
            default: return .push(elements)
            }
        case UInt8(ascii: "%"), UInt8(ascii: "|"):
            guard let count = try length(&buffer) else { return nil }
            guard count >= 0 else { throw .malformed("negative map size") }
            guard count <= limits.maxAggregateCount / 2 else { throw .limitExceeded("map of \(count) pairs") }
            guard let flat = try aggregate(&buffer, count: count * 2, depth: depth) else { return nil }
            let pairs = stride(from: 0, to: flat.count, by: 2).map { (key: flat[$0], value: flat[$0 + 1]) }
            return type == UInt8(ascii: "%") ? .map(pairs) : .attribute(pairs)
        case UInt8(ascii: "_"):
            guard let text = try line(&buffer) else { return nil }
            guard text.isEmpty else { throw .malformed("null with content") }
            return .null
        case UInt8(ascii: "#"):
            guard let text = try line(&buffer) else { return nil }
            switch text {
            case "t": return .boolean(true)
            case "f": return .boolean(false)
            default: throw .malformed("boolean \"\(text.prefix(8))\"")
            }
        case UInt8(ascii: ","):
            guard let text = try line(&buffer) else { return nil }
            switch text {
            case "inf": return .double(.infinity)
            case "-inf": return .double(-.infinity)
            case "nan": return .double(.nan)
            default:
                guard let value = Double(text) else { throw .malformed("double \"\(text.prefix(32))\"") }
                return .double(value)
            }
        case UInt8(ascii: "("):
            guard let text = try line(&buffer) else { return nil }
            guard !text.isEmpty, text.drop(while: { $0 == "-" || $0 == "+" }).allSatisfy(\.isNumber) else {
                throw .malformed("big number")
            }
            return .bigNumber(text)
        default:
            throw .unknownType(type)
        }
    }

    private func aggregate(_ buffer: inout ByteBuffer, count: Int, depth: Int) throws(DecodingError) -> [RESPValue]? {
        guard count <= limits.maxAggregateCount else { throw .limitExceeded("aggregate of \(count) elements") }
        var elements: [RESPValue] = []
        elements.reserveCapacity(min(count, 1_024))
        for _ in 0..<count {
            guard let element = try parse(&buffer, depth: depth + 1) else { return nil }
            elements.append(element)
        }
        return elements
    }

    /// A CRLF-terminated line, without the CRLF.
    private func line(_ buffer: inout ByteBuffer) throws(DecodingError) -> String? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: UInt8(ascii: "\r")) else {
            if view.count > limits.maxLineLength { throw .limitExceeded("line longer than \(limits.maxLineLength)") }
            return nil
        }
        let length = cr - view.startIndex
        guard length <= limits.maxLineLength else { throw .limitExceeded("line longer than \(limits.maxLineLength)") }
        guard view.count > length + 1 else { return nil }
        guard view[cr + 1] == UInt8(ascii: "\n") else { throw .malformed("CR without LF") }
        let text = buffer.readString(length: length)!
        buffer.moveReaderIndex(forwardBy: 2)
        return text
    }

    private func length(_ buffer: inout ByteBuffer) throws(DecodingError) -> Int? {
        guard let text = try line(&buffer) else { return nil }
        guard let value = Int(text), value >= -1 else { throw .malformed("length \"\(text.prefix(32))\"") }
        return value
    }

    private func blob(_ buffer: inout ByteBuffer, length: Int) throws(DecodingError) -> ByteBuffer? {
        guard length <= limits.maxBulkLength else { throw .limitExceeded("bulk string of \(length) bytes") }
        guard buffer.readableBytes >= length + 2 else { return nil }
        let bytes = buffer.readSlice(length: length)!
        guard buffer.readInteger(as: UInt8.self) == UInt8(ascii: "\r"), buffer.readInteger(as: UInt8.self) == UInt8(ascii: "\n") else {
            throw .malformed("bulk string without CRLF")
        }
        return bytes
    }
}
