import GatewayClient

/// Cuts a server's WebSocket byte stream into messages, for the raw reader (``RawLoadReader``):
/// frames are read from the bytes as they came off the socket, without a copy unless one is split
/// across reads, and a text message is handed over as a view of its payload.
struct ServerFrameScanner {
    enum Message {
        case text(UnsafeRawBufferPointer)
        case ping(UnsafeRawBufferPointer)
        case close
    }

    enum Failure: Error, Equatable {
        /// A masked frame, a reserved opcode, a continuation with nothing to continue or RSV bits set
        /// (the raw reader offers no extension).
        case protocolError(String)
        case tooLarge(Int)
    }

    private let maxMessageBytes: Int
    /// The start of a frame that the last read cut off.
    private var carried: [UInt8] = []
    /// The fragments of a text message still to be finished.
    private var fragments: [UInt8]?

    init(maxMessageBytes: Int = 1 << 24) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Hands every complete message in what has arrived so far to `body`, in order; keeps the rest.
    mutating func scan(_ bytes: UnsafeRawBufferPointer, _ body: (Message) -> Void) throws(Failure) {
        if carried.isEmpty {
            let used = try scanFrames(in: bytes, body)
            if used < bytes.count { carried.append(contentsOf: bytes[used...]) }
            return
        }
        carried.append(contentsOf: bytes)
        var joined: [UInt8] = []
        swap(&joined, &carried)
        let scanned = joined.withUnsafeBytes { bytes in Result { () throws(Failure) in try scanFrames(in: bytes, body) } }
        let used = try scanned.get()
        if used < joined.count { carried.append(contentsOf: joined[used...]) }
    }

    /// Returns how many bytes the complete frames took.
    private mutating func scanFrames(in bytes: UnsafeRawBufferPointer, _ body: (Message) -> Void) throws(Failure) -> Int {
        var start = 0
        while let (header, length) = try frame(at: start, in: bytes) {
            let first = bytes[start]
            let payload = UnsafeRawBufferPointer(rebasing: bytes[(start + header)..<(start + header + length)])
            start += header + length
            let fin = first & 0x80 != 0
            switch first & 0x0F {
            case 0x1 where fragments == nil:
                if fin { body(.text(payload)) } else { fragments = Array(payload) }
            case 0x0 where fragments != nil:
                fragments?.append(contentsOf: payload)
                guard let message = fragments, message.count <= maxMessageBytes else { throw .tooLarge(fragments?.count ?? 0) }
                if fin {
                    fragments = nil
                    message.withUnsafeBytes { body(.text($0)) }
                }
            case 0x2 where fragments == nil && fin:
                // A binary message: nothing to measure in it.
                break
            case 0x9:
                body(.ping(payload))
            case 0xA:
                break
            case 0x8:
                body(.close)
            default:
                throw .protocolError("unexpected opcode \(first & 0x0F)")
            }
        }
        return start
    }

    /// The header and payload lengths of the frame at `start`, once all of it has arrived.
    private func frame(at start: Int, in bytes: UnsafeRawBufferPointer) throws(Failure) -> (header: Int, length: Int)? {
        guard bytes.count - start >= 2 else { return nil }
        guard bytes[start] & 0x70 == 0 else { throw .protocolError("RSV bits set without an extension") }
        guard bytes[start + 1] & 0x80 == 0 else { throw .protocolError("a masked server frame") }
        guard let (header, length) = ClientWire.frameLengths(in: bytes, from: start) else { return nil }
        guard length >= 0, length <= maxMessageBytes else { throw .tooLarge(length) }
        return bytes.count - start - header >= length ? (header, length) : nil
    }
}
