public import NIOCore
public import NIOWebSocket

/// What every client here writes the same way: the upgrade request, the answer to a ping, and
/// client masking. One copy for the test client, the raw connection and the load generator.
public enum ClientWire {
    /// The opening handshake's request head (RFC 6455, 4.1), ending in the blank line.
    public static func upgradeRequest(path: String, host: String, key: String, headers: [(String, String)] = []) -> String {
        var request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        return request + "\r\n"
    }

    /// Takes an HTTP response head (without its blank line) off the front of `buffer`, once it has
    /// all arrived; the bytes after it (the first frames) stay.
    public static func takeResponseHead(from buffer: inout ByteBuffer) -> String? {
        let view = buffer.readableBytesView
        guard let end = view.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self)
        buffer.moveReaderIndex(to: end.upperBound)
        return head
    }

    /// The status of an HTTP response head (`HTTP/1.1 101 Switching Protocols`), 0 if it has none.
    public static func status(ofResponseHead head: String) -> Int {
        let statusLine = head.split(separator: "\r\n", maxSplits: 1).first ?? ""
        return statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    }

    /// The lengths of the header (mask key included) and of the payload of the frame that starts at
    /// `start` (RFC 6455, 5.2), once its header has arrived; nil before. The payload may still be
    /// on its way.
    public static func frameLengths(in bytes: UnsafeRawBufferPointer, from start: Int = 0) -> (header: Int, payload: Int)? {
        let available = bytes.count - start
        guard available >= 2 else { return nil }
        let second = bytes[start + 1]
        var header = second & 0x80 != 0 ? 6 : 2
        var payload = Int(second & 0x7F)
        if payload >= 126 {
            let extended = payload == 126 ? 2 : 8
            header += extended
            guard available >= header else { return nil }
            payload = (0..<extended).reduce(0) { $0 << 8 | Int(bytes[start + 2 + $1]) }
        }
        return available >= header ? (header, payload) : nil
    }

    /// The pong that answers `ping`: its payload echoed, masked with a fresh key as a client must.
    public static func pong(answering ping: WebSocketFrame) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: ping.unmaskedData)
    }

    /// Masks (or unmasks) `payload` with `key`, as RFC 6455 5.3 defines.
    public static func mask(_ payload: [UInt8], with key: [UInt8]) -> [UInt8] {
        payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
    }
}
