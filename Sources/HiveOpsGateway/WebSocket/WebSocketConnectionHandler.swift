import GeneratedMessages
import Logging
import NIOCore
import NIOWebSocket
import Prometheus

/// One upgraded WebSocket connection as a NIO channel handler: inbound frames go through the
/// message assembler into the session (or straight back, on the echo endpoint), and the
/// connection's queue is written from here, on the channel's event loop, as the socket takes it.
/// It decides nothing itself: each event goes through the connection's ``ConnectionStateMachine``
/// and the handler performs the action that comes out. No task and no async stream per
/// connection: a connection is its pipeline and a few small objects.
final class WebSocketConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// Boxed: a pending role is let go once the session is open, and unboxed its payload (the
    /// upgrade request and the admission) would stay inline in every handler for its whole life.
    indirect enum Role {
        /// The conformance endpoint: every message back as it came.
        case echo
        case dashboard(WebSocketController.Admission, UpgradeRequest)
    }

    /// Where the connection's lifecycle lives.
    private enum Lifecycle {
        /// A dashboard connection: its session's ``Connection`` (shared with fan-out and the sweep, under its lock).
        case session(ConnectionSession)
        /// The echo endpoint: a machine of the handler's own (loop-bound, no queue: echoes are written
        /// at once). Boxed: inline it would size every dashboard connection's handler too.
        indirect case echo(ConnectionStateMachine)
    }

    /// Flush steps in a row before the loop gets a turn for other channels.
    static let writesPerTurn = 4

    /// The role until the session is opened: the upgrade request is not kept past it.
    private var pendingRole: Role?
    private var lifecycle: Lifecycle?
    private let dependencies: ConnectionSession.Dependencies
    private let logger: Logger
    private var assembler: WebSocketMessageAssembler
    private var context: ChannelHandlerContext?
    /// The frame encoder's context: broadcasts are framed once, so their bytes go in below the encoder.
    private var framedWriter: ChannelHandlerContext?
    /// The channel's writability, kept from its change events: cheaper than asking the channel each step.
    private var writable = true
    /// The permessage-deflate the connection negotiated; nil uncompressed.
    private let deflate: PerMessageDeflate?
    /// Which way each batch goes (a dashboard connection's socket, or the channel), keeping the
    /// bytes in order on the wire.
    private var route = WriteRoute()
    /// Whether the connection holds the socket for frames written at once (``updateSocketOffer()``).
    private var socketOffered = false

    init(role: Role, deflate: PerMessageDeflate? = nil, dependencies: ConnectionSession.Dependencies, logger: Logger) {
        self.pendingRole = role
        self.deflate = deflate
        self.dependencies = dependencies
        self.logger = logger
        let limits = dependencies.configuration.limits
        // A dashboard message inflating past the message size limit is refused as it inflates; the
        // echo endpoint echoes what it accepts uncompressed, up to the frame ceiling.
        let inflated: Int
        if case .echo = role { inflated = limits.maxFrameBytes } else { inflated = limits.maxMessageBytes }
        self.assembler = WebSocketMessageAssembler(
            maxMessageBytes: limits.maxFrameBytes,
            inflation: deflate.map { _ in .init(compression: dependencies.compression, maxInflatedBytes: inflated) }
        )
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        writable = context.channel.isWritable
        do {
            framedWriter = try context.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        } catch {
            // Without the encoder's context nothing could be written: refuse the connection, loudly.
            logger.error("WebSocket pipeline without a frame encoder: closing the connection", metadata: ["error": "\(error)"])
            pendingRole = nil
            context.close(promise: nil)
            return
        }
        switch pendingRole {
        case .echo:
            // Echoes are written at once, never queued, and the echo endpoint is never swept.
            let unused = OutboundQueue(maxBytes: 0, maxFrames: 0, failureThreshold: 1)
            lifecycle = .echo(ConnectionStateMachine(queue: unused, idleTimeout: .seconds(Int64.max), now: .now))
        case .dashboard(let admission, let request):
            route.socket = try? context.pipeline.syncOperations.withUnsafeTransportIfAvailable(of: NIOBSDSocket.Handle.self) {
                DirectSocketWriter(descriptor: $0)
            }
            if route.socket != nil {
                // The upgrade's response may still wait in the channel: the first frame goes behind it.
                framedWriter?.writeAndFlush(NIOAny(IOData.byteBuffer(ByteBuffer())), promise: trackedPromise(context))
            }
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            let channel = context.channel
            let session = ConnectionSession(
                dependencies: dependencies,
                admission: admission,
                request: request,
                remote: channel.remoteAddress,
                logger: logger,
                hooks: Connection.SocketHooks(
                    eventLoop: context.eventLoop,
                    onLoop: { work in handler.value.perform(work) },
                    forceClose: { channel.close(mode: .all, promise: nil) }
                )
            )
            lifecycle = .session(session)
            updateSocketOffer()
        case nil:
            break
        }
        pendingRole = nil
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        route.socket = nil
        finishSession()
        self.context = nil
        framedWriter = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        route.socket = nil
        finishSession()
        context.fireChannelInactive()
    }

    /// Runs one event through the connection's machine.
    @discardableResult
    private func withMachine<Action>(_ event: (inout ConnectionStateMachine) -> Action) -> Action? {
        switch lifecycle {
        case .session(let session):
            return session.connection.withMachine(event)
        case .echo(var machine):
            let action = event(&machine)
            lifecycle = .echo(machine)
            return action
        case nil:
            return nil
        }
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let now = ContinuousClock.now
        withMachine { $0.peerFrameReceived() }
        switch assembler.receive(frame) {
        case .text(let buffer):
            deliver(.text(buffer), opcode: .text, now: now, context: context)
        case .binary(let buffer):
            deliver(.binary(buffer), opcode: .binary, now: now, context: context)
        case .ping(let data):
            guard withMachine(\.isHandshakeOpen) == true else { return }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: data)), promise: trackedPromise(context))
        case .pong, .none:
            break
        case .peerClosed(let answer):
            perform(withMachine { $0.peerClosed(answer: answer, now: now) }, context: context)
        case .fail(let code):
            logger.debug("Protocol violation", metadata: ["close_code": "\(code)"])
            perform(withMachine { $0.protocolViolation(code, now: now) }, context: context)
        }
    }

    private func deliver(_ message: InboundProcessor.Message, opcode: WebSocketOpcode, now: ContinuousClock.Instant, context: ChannelHandlerContext) {
        switch lifecycle {
        case .session(let session):
            // After our close frame only the peer's close matters (RFC 6455 §5.5.1).
            guard session.connection.withMachine(\.isHandshakeOpen) else { return }
            session.receive(message, now: now)
        case .echo(let machine):
            guard machine.isHandshakeOpen else { return }
            switch message {
            case .text(let data), .binary(let data):
                if let deflate, let framedWriter,
                    let wire = dependencies.compression.deflatedFrame(data, opcode: opcode, windowBits: deflate.serverWindowBits)
                {
                    framedWriter.writeAndFlush(NIOAny(IOData.byteBuffer(wire)), promise: nil)
                } else {
                    context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: opcode, data: data)), promise: nil)
                }
            }
        case nil:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NIOWebSocketError {
            // NIO's protocol error handler in front of this one has sent the close frame and closes the socket.
            let code: WebSocketErrorCode = error == .invalidFrameLength ? .messageTooLarge : .protocolError
            withMachine { $0.refusedByFrameDecoder(code, now: .now) }
        } else {
            logger.debug("Connection error", metadata: ["error": "\(error)"])
            withMachine { _ = $0.inputEnded(now: .now) }
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent {
            // The server allows half-closure (for HTTP); a WebSocket peer that stops sending is gone.
            if withMachine({ $0.inputEnded(now: .now) }) == true { context.close(promise: nil) }
            return
        }
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // The server stops: dashboard clients get their notice first; the echo endpoint just closes.
        switch lifecycle {
        case .session(let session): session.connection.requestClose(.serverShutdown)
        case .echo: perform(withMachine { $0.closeNow(.goingAway, now: .now) }, context: context)
        case nil: break
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        let writable = writable
        if withMachine({ $0.writabilityChanged(writable: writable, now: .now) }) == true { flush() }
        context.fireChannelWritabilityChanged()
    }

    /// Performs the machine's answer to the peer's close, a violation, or a close at once.
    private func perform(_ action: ConnectionStateMachine.PeerCloseAction?, context: ChannelHandlerContext) {
        switch action {
        case .sendCloseThenCloseSocket(let code):
            // A peer that does not read would hold the frame, and the socket, for good: the sweep's grace ends it.
            let channel = context.channel
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            context.writeAndFlush(wrapOutboundOut(Self.closeFrame(code, reason: nil)), promise: trackedPromise(context, cascadingTo: written))
        case .closeSocket:
            context.close(promise: nil)
        case .alreadyClosing, nil:
            break
        }
    }

    // MARK: - Outbound

    /// Does what the connection asks of its socket.
    private func perform(_ work: Connection.SocketHooks.Work) {
        switch work {
        case .flush:
            flush()
        case .write(let frame):
            writeNow(frame)
        case .remainder(let rest):
            writeRemainder(rest)
        }
    }

    /// Offers the connection its socket for frames written at once, or withdraws it, as the route
    /// changes: offered while the connection is uncompressed (a compressed frame is this handler's
    /// to make) and the channel holds nothing unwritten. Withdrawn before any write to the channel.
    private func updateSocketOffer() {
        guard case .session(let session) = lifecycle else { return }
        let socket = deflate == nil ? route.socket(forFrames: 1) : nil
        guard (socket != nil) != socketOffered else { return }
        socketOffered = socket != nil
        session.connection.offerSocket(socket)
    }

    /// Writes a broadcast's frame that nothing waits ahead of (``Connection/deliverLive(_:now:)``),
    /// which its ``LoopFanOut`` counts.
    private func writeNow(_ frame: OutboundFrame) {
        countCompression(plain: frame.wire.readableBytes, sent: send(frame))
    }

    /// Performs the machine's flush steps: pings, queued frames, the notice and close.
    func flush() {
        guard let context, let framedWriter, case .session(let session) = lifecycle else { return }
        let connection = session.connection
        for _ in 0..<Self.writesPerTurn {
            let writable = writable
            switch connection.withMachine({ $0.nextFlush(writable: writable, now: .now) }) {
            case .sendPing:
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer())), promise: trackedPromise(context))
            case .write(let frames):
                write(frames, to: framedWriter, context: context)
            case .sendClose(let request):
                if let notice = session.closeNotice(for: request) {
                    framedWriter.write(NIOAny(IOData.byteBuffer(wire(of: notice))), promise: nil)
                }
                context.writeAndFlush(
                    wrapOutboundOut(Self.closeFrame(request.code, reason: request.reason.rawValue)),
                    promise: trackedPromise(context)
                )
                return
            case .waitForWritability, .done:
                return
            }
        }
        // More to write: after the loop's other work.
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute { handler.value.flush() }
    }

    /// Writes one queued frame as ``send(_:)`` writes it, and counts it.
    private func write(_ frame: OutboundFrame) {
        let sent = send(frame)
        count(frames: 1, bytes: frame.bytes.readableBytes, errors: frame.type == "error" ? 1 : 0)
        countCompression(plain: frame.wire.readableBytes, sent: sent)
    }

    /// Sends one frame as this connection gets it (compressed when it negotiated permessage-deflate);
    /// returns its size on the wire. An uncompressed frame is sent from the shared frame itself, not
    /// a copy of its buffer: every loop sends it, and a copy is a reference count they all write.
    private func send(_ frame: OutboundFrame) -> Int {
        guard deflate != nil else { return send(wire: frame.wire) }
        return send(wire: wire(of: frame))
    }

    /// Straight to the socket when nothing is ahead of it in the channel (the rest of it through the
    /// channel if the socket did not take it all), else through the channel. The pipeline's contexts
    /// are touched only on the channel's path: at a fixed rate nearly every frame goes straight, and
    /// every object it does not touch is a cache miss it does not take.
    private func send(wire: ByteBuffer) -> Int {
        if let socket = route.socket(forFrames: 1) {
            if let rest = socket.send(wire) { writeRemainder(rest) }
        } else if let context, let framedWriter {
            framedWriter.writeAndFlush(NIOAny(IOData.byteBuffer(wire)), promise: trackedPromise(context))
        }
        return wire.readableBytes
    }

    /// The part of a frame the socket did not take goes through the channel, which waits for the socket.
    private func writeRemainder(_ rest: ByteBuffer) {
        guard let context, let framedWriter else { return }
        dependencies.metrics.directWriteRemainders.increment()
        framedWriter.writeAndFlush(NIOAny(IOData.byteBuffer(rest)), promise: trackedPromise(context))
    }

    /// Writes a batch of queued frames: one frame goes as ``write(_:)`` writes it; a larger batch
    /// goes through the channel, which SwiftNIO writes with one `writev`.
    private func write(_ frames: [OutboundFrame], to framedWriter: ChannelHandlerContext, context: ChannelHandlerContext) {
        if frames.count == 1 { return write(frames[0]) }
        var (bytes, errors, plainWireBytes, wireBytes) = (0, 0, 0, 0)
        for (index, frame) in frames.enumerated() {
            bytes += frame.bytes.readableBytes
            if frame.type == "error" { errors += 1 }
            let wire = wire(of: frame)
            plainWireBytes += frame.wire.readableBytes
            wireBytes += wire.readableBytes
            // SwiftNIO completes a channel's writes in order: the last one's promise stands for them all.
            framedWriter.write(NIOAny(IOData.byteBuffer(wire)), promise: index == frames.count - 1 ? trackedPromise(context) : nil)
        }
        framedWriter.flush()
        count(frames: frames.count, bytes: bytes, errors: errors)
        countCompression(plain: plainWireBytes, sent: wireBytes)
    }

    private func count(frames: Int, bytes: Int, errors: Int) {
        let metrics = dependencies.metrics
        metrics.messagesSent.increment(by: Int64(frames))
        metrics.bytesSent.increment(by: Int64(bytes))
        if errors > 0 { metrics.errorsSent.increment(by: Int64(errors)) }
    }

    private func countCompression(plain: Int, sent: Int) {
        guard deflate != nil else { return }
        dependencies.metrics.compressionBytesBefore.increment(by: Int64(plain))
        dependencies.metrics.compressionBytesAfter.increment(by: Int64(sent))
    }

    /// A promise for a write handed to SwiftNIO, counted by `route` until SwiftNIO has written it (or
    /// failed it: the channel is closing); just `next` when there is no direct writer to hold back.
    private func trackedPromise(_ context: ChannelHandlerContext, cascadingTo next: EventLoopPromise<Void>? = nil) -> EventLoopPromise<Void>? {
        guard route.socket != nil else { return next }
        route.channelWriteStarted()
        updateSocketOffer()
        let promise = context.eventLoop.makePromise(of: Void.self)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { result in
            handler.value.route.channelWriteFinished()
            handler.value.updateSocketOffer()
            next?.completeWith(result)
        }
        return promise
    }

    /// The frame as this connection gets it: compressed (made once per broadcast) when it negotiated permessage-deflate.
    private func wire(of frame: OutboundFrame) -> ByteBuffer {
        guard let deflate else { return frame.wire }
        return frame.wire(for: deflate, compression: dependencies.compression)
    }

    /// Finishing the session also withdraws the socket from the connection (``Connection/markFinished()``).
    private func finishSession() {
        if case .session(let session) = lifecycle { session.finish() }
        lifecycle = nil
    }

    static func closeFrame(_ code: WebSocketErrorCode, reason: String?) -> WebSocketFrame {
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        // The reasons are short tokens (`CloseRequest`), well inside the 123 bytes a close frame allows.
        if let reason { data.writeString(reason) }
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }
}

// A channel handler lives on its channel's event loop; it is never shared across threads.
@available(*, unavailable)
extension WebSocketConnectionHandler: Sendable {}
