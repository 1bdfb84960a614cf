public import NIOCore
public import NIOPosix
import Synchronization

/// A plain TCP connection that writes whatever bytes it is given and reads
/// the server's HTTP head and WebSocket frames by hand: for sending what no
/// well-behaved client would (malformed frames, half requests, random bytes).
public final class RawConnection: Sendable {
    /// A server frame: server frames are never masked.
    public struct Frame: Sendable, Equatable {
        public var fin: Bool
        public var opcode: UInt8
        public var payload: [UInt8]
        /// RSV1: with permessage-deflate, the message is compressed.
        public var rsv1 = false

        /// The close code of a close frame, nil when it carried none.
        public var closeCode: UInt16? {
            guard opcode == 0x8, payload.count >= 2 else { return nil }
            return UInt16(payload[0]) << 8 | UInt16(payload[1])
        }
    }

    enum Event: Sendable {
        case bytes(ByteBuffer)
        case closed
    }

    private let channel: any Channel
    private let mailbox: Mailbox<Event>
    private let received = Mutex((buffer: ByteBuffer(), closed: false))

    private init(channel: any Channel, mailbox: Mailbox<Event>) {
        self.channel = channel
        self.mailbox = mailbox
    }

    public static func connect(
        host: String = "127.0.0.1",
        port: Int,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> RawConnection {
        let mailbox = Mailbox<Event>()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(mailbox: mailbox)) }
            }
            .connect(host: host, port: port).get()
        return RawConnection(channel: channel, mailbox: mailbox)
    }

    /// Writes the bytes; false when the connection is already gone.
    @discardableResult
    public func write(_ bytes: [UInt8]) async -> Bool {
        do {
            try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
            return true
        } catch {
            return false
        }
    }

    public func close() {
        channel.close(promise: nil)
    }

    /// Sends an upgrade request for `path` and returns the response's status and head
    /// (nil if the server closed first); bytes after the head stay for `readFrame`.
    public func upgrade(path: String, headers: [(String, String)] = [], timeout: Duration = .seconds(10)) async throws -> (status: Int, head: String)?
    {
        // The RFC's sample key: a fixed key keeps the raw tests' bytes reproducible.
        let request = ClientWire.upgradeRequest(path: path, host: "127.0.0.1", key: "dGhlIHNhbXBsZSBub25jZQ==", headers: headers)
        await write(Array(request.utf8))
        return try await readHTTPHead(timeout: timeout)
    }

    /// The next HTTP response head, nil if the server closed before sending one.
    public func readHTTPHead(timeout: Duration = .seconds(10)) async throws -> (status: Int, head: String)? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let head = received.withLock { ClientWire.takeResponseHead(from: &$0.buffer) }
            if let head {
                return (ClientWire.status(ofResponseHead: head), head)
            }
            guard try await receiveMore(until: deadline) else { return nil }
        }
    }

    /// The next server frame, nil if the server closed the connection first.
    public func readFrame(timeout: Duration = .seconds(10)) async throws -> Frame? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let frame = received.withLock({ Self.parseFrame(&$0.buffer) }) { return frame }
            guard try await receiveMore(until: deadline) else { return nil }
        }
    }

    /// Reads until the server closes; returns the close frame's code if one came (nil: closed without one).
    public func readUntilClosed(timeout: Duration = .seconds(10)) async throws -> (sawClose: Bool, code: UInt16?) {
        var code: UInt16?
        var sawClose = false
        while let frame = try await readFrame(timeout: timeout) {
            if frame.opcode == 0x8 {
                sawClose = true
                code = frame.closeCode
            }
        }
        return (sawClose, code)
    }

    /// Waits for more bytes; false once the server has closed and everything was read.
    private func receiveMore(until deadline: ContinuousClock.Instant) async throws -> Bool {
        if received.withLock({ $0.closed }) { return false }
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { throw WebSocketClient.ClientError.timedOut }
        switch try await mailbox.next(timeout: remaining) {
        case .bytes(var bytes):
            _ = received.withLock { $0.buffer.writeBuffer(&bytes) }
            return true
        case .closed:
            received.withLock { $0.closed = true }
            return received.withLock { $0.buffer.readableBytes > 0 }
        }
    }

    /// Takes one whole frame off the front of `buffer`, if one is there.
    public static func parseFrame(_ buffer: inout ByteBuffer) -> Frame? {
        guard let (headerLength, length) = buffer.withUnsafeReadableBytes({ ClientWire.frameLengths(in: $0) }),
            buffer.readableBytes - headerLength >= length,
            let first = buffer.readableBytesView.first
        else { return nil }
        buffer.moveReaderIndex(forwardBy: headerLength)
        let payload = buffer.readBytes(length: length) ?? []
        return Frame(fin: first & 0x80 != 0, opcode: first & 0x0F, payload: payload, rsv1: first & 0x40 != 0)
    }

    /// A client frame, masked unless told otherwise; `declaredLength` lies about the payload's length.
    public static func clientFrame(
        opcode: UInt8,
        payload: [UInt8],
        fin: Bool = true,
        rsv: UInt8 = 0,
        masked: Bool = true,
        declaredLength: Int? = nil
    ) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | (rsv & 0x7) << 4 | (opcode & 0x0F)]
        let length = declaredLength ?? payload.count
        let maskBit: UInt8 = masked ? 0x80 : 0
        if length < 126 {
            bytes.append(maskBit | UInt8(length))
        } else if length <= 0xFFFF {
            bytes.append(maskBit | 126)
            bytes += [UInt8(length >> 8), UInt8(length & 0xFF)]
        } else {
            bytes.append(maskBit | 127)
            bytes += (0..<8).reversed().map { UInt8((length >> ($0 * 8)) & 0xFF) }
        }
        guard masked else { return bytes + payload }
        let key: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        bytes += key
        bytes += ClientWire.mask(payload, with: key)
        return bytes
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        let mailbox: Mailbox<Event>

        init(mailbox: Mailbox<Event>) {
            self.mailbox = mailbox
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            mailbox.post(.bytes(unwrapInboundIn(data)))
        }

        func channelInactive(context: ChannelHandlerContext) {
            mailbox.post(.closed)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
