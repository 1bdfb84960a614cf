import NIOCore

/// Turns bytes into RESP values with the limited decoder; a decoding error closes the connection.
struct RESPFrameDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = RESPValue
    let decoder: RESPDecoder

    mutating func decode(buffer: inout ByteBuffer) throws -> RESPValue? {
        try decoder.decode(&buffer)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RESPValue? {
        try decode(buffer: &buffer)
    }
}

/// Matches replies to commands in order, and hands pub/sub traffic (messages,
/// subscription confirmations, the subscribed-mode `pong`) to `onPush`.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private static let pushKinds: Set<String> = ["message", "pmessage", "subscribe", "psubscribe", "unsubscribe", "punsubscribe", "pong"]

    private var pending = CircularBuffer<EventLoopPromise<RESPValue>>()
    private let onRead: @Sendable () -> Void
    private let onPush: @Sendable (RESPValue) -> Void
    private let onClose: @Sendable ((any Error)?) -> Void
    private var closeError: (any Error)?

    init(onRead: @escaping @Sendable () -> Void, onPush: @escaping @Sendable (RESPValue) -> Void, onClose: @escaping @Sendable ((any Error)?) -> Void)
    {
        self.onRead = onRead
        self.onPush = onPush
        self.onClose = onClose
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let reply = request.reply { pending.append(reply) }
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        onRead()
        if case .push = value {
            onPush(value)
        } else if let kind = value.elements?.first?.string?.lowercased(), Self.pushKinds.contains(kind) {
            onPush(value)
        } else if !pending.isEmpty {
            pending.removeFirst().succeed(value)
        } else {
            onPush(value)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeError = error
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let error = closeError ?? RedisConnection.ConnectionError.closed
        while !pending.isEmpty { pending.removeFirst().fail(error) }
        onClose(closeError)
        context.fireChannelInactive()
    }
}

/// One command on the wire, with the promise of its reply (nil when the replies come as pushes).
struct RedisRequest {
    var bytes: ByteBuffer
    var reply: EventLoopPromise<RESPValue>?
}

// A channel handler lives on its channel's event loop; it is never shared across threads.
@available(*, unavailable)
extension RedisChannelHandler: Sendable {}
