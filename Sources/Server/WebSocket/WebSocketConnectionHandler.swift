import GeneratedMessages
import Logging
import NIOCore
import NIOWebSocket
import Prometheus

/// One upgraded WebSocket connection as a NIO channel handler: inbound frames go through the
/// message assembler into the session (or straight back, on the echo endpoint), and the
/// connection's queue is written from here, on the channel's event loop, as the socket takes it.
/// No task and no async stream per connection: a connection is its pipeline and a few small objects.
final class WebSocketConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    enum Role {
        /// The conformance endpoint: every message back as it came.
        case echo
        case dashboard(WebSocketController.Admission, UpgradeRequest)
    }

    /// The close handshake as this side sees it.
    private enum CloseHandshake {
        case open
        /// Our close frame is out; the peer's is awaited (the sweep closes the socket after the grace).
        case closeSent
        /// The socket is being closed.
        case closing
    }

    /// Flush steps in a row before the loop gets a turn for other channels.
    static let writesPerTurn = 4

    /// The role until the session is opened: the upgrade request is not kept past it.
    private var pendingRole: Role?
    private let isEcho: Bool
    private let services: GatewayServices
    private let logger: Logger
    private var assembler: WebSocketMessageAssembler
    private var session: ConnectionSession?
    private var context: ChannelHandlerContext?
    /// The frame encoder's context: broadcasts are framed once, so their bytes go in below the encoder.
    private var framedWriter: ChannelHandlerContext?
    private var handshake = CloseHandshake.open
    /// The channel's writability, kept from its change events: cheaper than asking the channel each step.
    private var writable = true
    /// The close code a protocol violation of the peer's was answered with.
    private var protocolError: WebSocketErrorCode?

    init(role: Role, services: GatewayServices, logger: Logger) {
        self.pendingRole = role
        if case .echo = role { isEcho = true } else { isEcho = false }
        self.services = services
        self.logger = logger
        self.assembler = WebSocketMessageAssembler(maxMessageBytes: services.configuration.maxFrameBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        writable = context.channel.isWritable
        framedWriter = try? context.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        guard case .dashboard(let admission, let request) = pendingRole else { return }
        pendingRole = nil
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let channel = context.channel
        session = ConnectionSession(
            services: services,
            admission: admission,
            request: request,
            remote: channel.remoteAddress,
            logger: logger,
            hooks: Connection.SocketHooks(
                eventLoop: eventLoop,
                flushOnLoop: { handler.value.flush() },
                forceClose: { channel.close(mode: .all, promise: nil) }
            )
        )
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finishSession()
        self.context = nil
        framedWriter = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        finishSession()
        context.fireChannelInactive()
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        session?.connection.recordPeerAlive()
        switch assembler.receive(frame) {
        case .text(let buffer):
            deliver(.text(buffer), opcode: .text, context: context)
        case .binary(let buffer):
            deliver(.binary(buffer), opcode: .binary, context: context)
        case .ping(let data):
            guard case .open = handshake else { return }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: data)), promise: nil)
        case .pong, .none:
            break
        case .peerClosed(let answer):
            endHandshake(answering: answer, context: context)
        case .fail(let code):
            protocolError = code
            logger.debug("Protocol violation", metadata: ["close_code": "\(code)"])
            endHandshake(answering: code, context: context)
        }
    }

    /// The peer closed or broke the protocol: answer with `code` unless our close is already out,
    /// then close the socket.
    private func endHandshake(answering code: WebSocketErrorCode, context: ChannelHandlerContext) {
        switch handshake {
        case .open: sendCloseThenShutdown(code, context: context)
        case .closeSent: shutdown(context: context)
        case .closing: break
        }
    }

    private func deliver(_ message: InboundProcessor.Message, opcode: WebSocketOpcode, context: ChannelHandlerContext) {
        // After our close frame only the peer's close matters (RFC 6455 §5.5.1).
        guard case .open = handshake else { return }
        if let session {
            session.receive(message, now: .now)
        } else if isEcho {
            switch message {
            case .text(let data), .binary(let data):
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: opcode, data: data)), promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NIOWebSocketError {
            // NIO's protocol error handler in front of this one has sent the close frame and closes the socket.
            protocolError = error == .invalidFrameLength ? .messageTooLarge : .protocolError
            handshake = .closing
            session?.connection.markCloseSent(now: .now)
        } else {
            logger.debug("Connection error", metadata: ["error": "\(error)"])
            shutdown(context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent {
            // The server allows half-closure (for HTTP); a WebSocket peer that stops sending is gone.
            shutdown(context: context)
            return
        }
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // The server stops: dashboard clients get their notice first; the echo endpoint just closes.
        if let session {
            session.connection.requestClose(.serverShutdown)
        } else if case .open = handshake {
            sendCloseThenShutdown(.goingAway, context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        if let connection = session?.connection, connection.writabilityChanged(writable: writable, now: .now) {
            flush()
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: - Outbound

    /// Writes what the connection has for the socket: pings, queued frames, the notice and close.
    func flush() {
        guard let context, let framedWriter, let session else { return }
        let connection = session.connection
        for _ in 0..<Self.writesPerTurn {
            switch connection.nextFlush(writable: writable, now: .now) {
            case .ping:
                guard case .open = handshake else { continue }
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer())), promise: nil)
            case .write(let frames):
                write(frames, to: framedWriter)
            case .close(let request):
                guard case .open = handshake else { return }
                if let notice = session.closeNotice(for: request) {
                    framedWriter.write(NIOAny(IOData.byteBuffer(notice.wire)), promise: nil)
                }
                context.writeAndFlush(wrapOutboundOut(Self.closeFrame(request.code, reason: request.reason.rawValue)), promise: nil)
                handshake = .closeSent
                return
            case .waitForWritability, .done:
                return
            }
        }
        // More to write: after the loop's other work.
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute { handler.value.flush() }
    }

    private func write(_ frames: [OutboundFrame], to framedWriter: ChannelHandlerContext) {
        var bytes = 0
        var errors = 0
        for frame in frames {
            bytes += frame.bytes.readableBytes
            if frame.type == "error" { errors += 1 }
            framedWriter.write(NIOAny(IOData.byteBuffer(frame.wire)), promise: nil)
        }
        framedWriter.flush()
        let metrics = services.metrics
        metrics.messagesSent.increment(by: Int64(frames.count))
        metrics.bytesSent.increment(by: Int64(bytes))
        if errors > 0 { metrics.errorsSent.increment(by: Int64(errors)) }
    }

    /// Answers the peer's close (or a violation) and closes the socket once the frame is out.
    private func sendCloseThenShutdown(_ code: WebSocketErrorCode, context: ChannelHandlerContext) {
        handshake = .closing
        // A peer that does not read would hold the frame, and the socket, for good: the sweep's grace ends it.
        session?.connection.markCloseSent(now: .now)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(Self.closeFrame(code, reason: nil))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    private func shutdown(context: ChannelHandlerContext) {
        handshake = .closing
        context.close(promise: nil)
    }

    private func finishSession() {
        session?.finish(protocolError: protocolError)
        session = nil
    }

    static func closeFrame(_ code: WebSocketErrorCode, reason: String?) -> WebSocketFrame {
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        // The reasons are short tokens (`CloseRequest`), well inside the 123 bytes a close frame allows.
        if let reason { data.writeString(reason) }
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }
}
