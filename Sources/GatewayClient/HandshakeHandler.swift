import Foundation
public import NIOCore
import NIOWebSocket

/// The client side of the WebSocket opening handshake, by hand: NIO's typed
/// client upgrader can drop frame bytes that arrive in the same read as the
/// `101` response, which a server that greets at once (ours) sends. This
/// handler hands those bytes to the frame decoder, and reports the HTTP
/// status of a refused upgrade. `Upgraded` is what the caller puts at the end of the
/// WebSocket pipeline: an async channel for the tests, a plain handler for the load generator.
public final class HandshakeHandler<Upgraded: Sendable>: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public enum Result: Sendable {
        /// The upgrade succeeded; `responseHead` is the `101` response's status line and headers.
        case upgraded(Upgraded, responseHead: String)
        case refused(status: Int, body: String)
    }

    private let request: String
    private let maxFrameSize: Int
    private let promise: EventLoopPromise<Result>
    private let completeUpgrade: (any Channel) throws -> Upgraded
    private var received = ByteBuffer()
    private var done = false

    /// - Parameter completeUpgrade: called on the event loop once the frame codec is in place, to add
    ///   the handler that consumes frames; frames that came with the response are fired after it.
    public init(
        host: String,
        port: Int,
        path: String,
        headers: [(String, String)],
        maxFrameSize: Int,
        promise: EventLoopPromise<Result>,
        completeUpgrade: @escaping (any Channel) throws -> Upgraded
    ) {
        let key = Data((0..<16).map { _ in UInt8.random(in: .min ... .max) }).base64EncodedString()
        self.request = ClientWire.upgradeRequest(path: path, host: "\(host):\(port)", key: key, headers: headers)
        self.maxFrameSize = maxFrameSize
        self.promise = promise
        self.completeUpgrade = completeUpgrade
    }

    public func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
        context.fireChannelActive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        guard !done else {
            context.fireChannelRead(wrapInboundOut(incoming))
            return
        }
        received.writeBuffer(&incoming)
        guard let head = ClientWire.takeResponseHead(from: &received) else { return }
        let status = ClientWire.status(ofResponseHead: head)
        done = true
        guard status == 101 else {
            // A refusal: report the status and whatever of the body came with the head.
            promise.succeed(.refused(status: status, body: String(buffer: received)))
            context.close(promise: nil)
            return
        }
        do {
            try context.pipeline.syncOperations.addHandlers(
                [WebSocketFrameEncoder(), ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize))],
                position: .after(self)
            )
            promise.succeed(.upgraded(try completeUpgrade(context.channel), responseHead: head))
            if received.readableBytes > 0 {
                context.fireChannelRead(wrapInboundOut(received))
            }
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        } catch {
            promise.fail(error)
            context.close(promise: nil)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.fail(ChannelError.eof)
        }
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            promise.fail(error)
        }
        context.close(promise: nil)
    }
}

// A channel handler lives on its channel's event loop; it is never shared across threads.
@available(*, unavailable)
extension HandshakeHandler: Sendable {}
