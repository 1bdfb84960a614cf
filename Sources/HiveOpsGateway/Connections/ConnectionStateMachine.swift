package import NIOWebSocket

/// One connection's lifecycle as a value: its outbound queue, the time-based rules (idle timeout,
/// credential expiry, write deadline, pings, close grace) and the close handshake. Each event goes
/// in as a mutating call and one action comes out, which the caller performs; the machine does no
/// I/O, holds no lock and reads no clock (every event carries `now`), so every transition is
/// tested without a socket. ``Connection`` is a lock around it plus the socket hooks.
package struct ConnectionStateMachine: Sendable {
    package typealias Instant = ContinuousClock.Instant

    /// A point in time as the states keep it: the time since a fixed origin. Not
    /// `ContinuousClock.Instant`, whose layout the compiler does not know (the standard library is
    /// resilient): a state holding one was copied, tagged and destroyed through runtime witnesses on
    /// every event, which cost a third of an enqueue (docs/BENCHMARKS.md). `Duration` is frozen.
    package struct Tick: Comparable, Sendable {
        private static let origin = ContinuousClock.now
        package var sinceOrigin: Duration

        package init(_ instant: Instant) {
            sinceOrigin = Self.origin.duration(to: instant)
        }

        package func duration(to later: Tick) -> Duration { later.sinceOrigin - sinceOrigin }
        package static func < (lhs: Tick, rhs: Tick) -> Bool { lhs.sinceOrigin < rhs.sinceOrigin }
    }

    /// Whether a flush is owed to the socket.
    package enum Flush: Sendable, Equatable {
        /// Nothing to write, or nothing scheduled: the next enqueue or close schedules one.
        case idle
        /// Scheduled or running on the channel's event loop: no other is scheduled.
        case scheduled
        /// Frames wait for the socket to take bytes again: a writability change resumes it.
        case waitingForWritability
    }

    /// What open and draining connections have: frames on their way and the flush that sends them.
    package struct Outbound: Sendable {
        package var queue: OutboundQueue
        package var flush: Flush = .idle

        /// Marks a flush scheduled; whether the caller must schedule it (none was owed).
        mutating func scheduleFlush() -> Bool {
            guard flush == .idle else { return false }
            flush = .scheduled
            return true
        }
    }

    /// Whether the socket takes bytes, for the write deadline.
    package enum WriteStall: Sendable, Equatable {
        case none
        /// Bytes have waited since then.
        case stalled(since: Tick)
        /// This stall passed the write deadline and was counted as a send failure, once.
        case counted(since: Tick)
    }

    /// Whether the peer is known to be alive (Hummingbird's rule: a ping each interval; no frame
    /// at all by the next one means a dead peer).
    package enum Liveness: Sendable, Equatable {
        /// The peer sent a frame since the last ping (or none was sent yet).
        case heard(lastPingAt: Tick)
        /// A ping is decided and owed to the flusher; the peer has sent nothing since.
        case pingOwed(at: Tick)
        /// The ping is written; the peer has sent nothing since.
        case awaitingPeer(pingAt: Tick)

        var lastPingAt: Tick {
            switch self {
            case .heard(let at), .pingOwed(let at), .awaitingPeer(let at): at
            }
        }
    }

    package struct Open: Sendable {
        /// When the last message arrived, and how long a connection may stay without one.
        package var lastActivity: Tick
        package var idleTimeout: Duration
        /// When the connection's credential stops being valid.
        package var credentialExpiry: Tick?
        package var stall: WriteStall = .none
        package var liveness: Liveness
    }

    package struct Draining: Sendable {
        package var request: CloseRequest
        /// When the close was requested: the close grace runs from here.
        package var since: Tick
    }

    /// How the connection ends, for the log line of its end.
    package enum Ending: Sendable, Equatable {
        /// The server closed it (requested, perhaps not sent when the socket went).
        case server(CloseRequest)
        /// The client closed it first, or the socket went without a close.
        case client
        /// The client broke the protocol and was answered with this close code.
        case protocolViolation(WebSocketErrorCode)
    }

    package enum State: Sendable {
        /// Serving: frames are queued and flushed, the sweep's rules apply.
        case open(Open)
        /// A close is requested: the queued frames go out, then the notice and the close frame.
        case draining(Draining)
        /// Our close frame is out; the peer's answer is awaited, within the close grace of `since`.
        case closeSent(since: Tick, request: CloseRequest)
        /// The socket is being closed: a close was answered or a violation refused. Bounded by the
        /// close grace of `since` too: a peer that does not read would hold the last frame, and the socket.
        case closingSocket(since: Tick, ending: Ending)
        /// The socket is closed; nothing more happens.
        case finished
    }

    /// The most one flush step takes off the queue for one write.
    static let batchFrames = 256
    static let batchBytes = 256 * 1_024

    package private(set) var state: State
    /// The frames on their way and the flush that sends them, which open and draining connections
    /// have (the others hold none). Kept beside the state rather than in it: they change on every
    /// enqueue and flush step, and a state's data is copied out and back on each change, which
    /// measured a third slower per enqueue (docs/BENCHMARKS.md).
    package private(set) var outbound: Outbound

    /// How many frames the outbound queue holds at most.
    package var queueCapacity: Int { outbound.queue.maxFrames }

    package init(queue: OutboundQueue, idleTimeout: Duration, credentialExpiry: Instant? = nil, now: Instant) {
        outbound = Outbound(queue: queue)
        state = .open(
            Open(
                lastActivity: Tick(now),
                idleTimeout: idleTimeout,
                credentialExpiry: credentialExpiry.map(Tick.init),
                liveness: .heard(lastPingAt: Tick(now))
            )
        )
    }

    // MARK: - Fan-out

    package enum EnqueueAction: Sendable, Equatable {
        /// Queued; `scheduleFlush` when the caller must schedule the flush that sends it.
        case enqueued(scheduleFlush: Bool)
        /// The frame did not fit: a send failure, the streak's length.
        case rejected(consecutiveFailures: Int)
        /// The frame did not fit and the streak reached the threshold: the queue is dropped and a
        /// backpressure close is requested; the caller schedules the flush that sends it.
        case rejectedAndClosing(consecutiveFailures: Int)
        /// The connection is closing or closed and takes no more frames.
        case notOpen
    }

    package mutating func enqueue(_ frame: OutboundFrame, now: Instant) -> EnqueueAction {
        guard case .open = state else { return .notOpen }
        switch outbound.queue.enqueue(frame) {
        case .enqueued:
            return .enqueued(scheduleFlush: outbound.scheduleFlush())
        case .rejected(let failures, let disconnect):
            guard disconnect else { return .rejected(consecutiveFailures: failures) }
            // The flush this close needs is scheduled by the caller: `close` marks it.
            _ = close(.backpressure(failures: failures), now: Tick(now))
            return .rejectedAndClosing(consecutiveFailures: failures)
        }
    }

    package enum LiveAction: Sendable, Equatable {
        /// Write the frame now, past the queue: nothing is queued or owed ahead of it and the socket takes bytes.
        case writeNow
        /// Queued, as ``enqueue(_:now:)`` would have it.
        case queued(EnqueueAction)
    }

    /// A broadcast's frame on the connection's own event loop (``LoopFanOut``). An idle connection, the
    /// usual one at a fixed rate, has it written at once: no queue, no flush step, no second look at
    /// the machine. Any other is queued as ``enqueue(_:now:)`` queues, behind what waits.
    package mutating func deliverLive(_ frame: OutboundFrame, now: Instant) -> LiveAction {
        guard case .open(let open) = state else { return .queued(.notOpen) }
        if outbound.flush == .idle, outbound.queue.isEmpty, open.stall == .none {
            outbound.queue.recordDelivery()
            return .writeNow
        }
        return .queued(enqueue(frame, now: now))
    }

    package enum CloseAction: Sendable, Equatable {
        /// The close is requested; `scheduleFlush` when the caller must schedule the flush that sends it.
        case accepted(scheduleFlush: Bool)
        /// Another close came first.
        case ignored
    }

    /// Asks for a notice and a close frame. The first request wins.
    package mutating func requestClose(_ request: CloseRequest, now: Instant) -> CloseAction {
        guard case .open = state else { return .ignored }
        return .accepted(scheduleFlush: close(request, now: Tick(now)))
    }

    /// Moves to draining; whether the caller must schedule the flush.
    private mutating func close(_ request: CloseRequest, now: Tick) -> Bool {
        if request.dropsPendingFrames { _ = outbound.queue.removeAll() }
        state = .draining(Draining(request: request, since: now))
        // A flush that waits for writability sends the close when the socket takes bytes again,
        // or the close grace ends the connection.
        return outbound.scheduleFlush()
    }

    // MARK: - The flusher (the channel's event loop)

    package enum FlushAction: Sendable {
        /// Write a ping (the sweep found the connection quiet for a ping interval), then ask again.
        case sendPing
        /// Write these frames, then ask again.
        case write([OutboundFrame])
        /// Every queued frame is out: write the notice and the close frame.
        case sendClose(CloseRequest)
        /// The socket takes no more bytes for now; a writability change resumes the flush.
        case waitForWritability
        /// Nothing to write.
        case done
    }

    /// The flusher's next step. `writable` is the channel's writability: while it is false, queued
    /// frames wait and the write deadline runs.
    package mutating func nextFlush(writable: Bool, now: Instant) -> FlushAction {
        let now = Tick(now)
        switch state {
        case .open(var open):
            if case .pingOwed(let at) = open.liveness {
                open.liveness = .awaitingPeer(pingAt: at)
                state = .open(open)
                return .sendPing
            }
            guard !outbound.queue.isEmpty else {
                outbound.flush = .idle
                return .done
            }
            guard writable else {
                outbound.flush = .waitingForWritability
                if open.stall == .none {
                    open.stall = .stalled(since: now)
                    state = .open(open)
                }
                return .waitForWritability
            }
            return .write(outbound.queue.dequeueBatch(maxFrames: Self.batchFrames, maxBytes: Self.batchBytes))
        case .draining(let draining):
            guard outbound.queue.isEmpty else {
                guard writable else {
                    outbound.flush = .waitingForWritability
                    return .waitForWritability
                }
                return .write(outbound.queue.dequeueBatch(maxFrames: Self.batchFrames, maxBytes: Self.batchBytes))
            }
            outbound.flush = .idle
            state = .closeSent(since: draining.since, request: draining.request)
            return .sendClose(draining.request)
        case .closeSent, .closingSocket, .finished:
            return .done
        }
    }

    /// The channel's writability changed: a stall starts the write deadline, its end stops it.
    /// Returns whether the caller must resume the flush that waits for it.
    package mutating func writabilityChanged(writable: Bool, now: Instant) -> Bool {
        let now = Tick(now)
        switch state {
        case .open(var open):
            defer { state = .open(open) }
            if !writable {
                if open.stall == .none { open.stall = .stalled(since: now) }
                return false
            }
            open.stall = .none
            return resumeFlush()
        case .draining:
            return writable && resumeFlush()
        case .closeSent, .closingSocket, .finished:
            return false
        }
    }

    private mutating func resumeFlush() -> Bool {
        guard outbound.flush == .waitingForWritability else { return false }
        outbound.flush = .scheduled
        return true
    }

    // MARK: - The reader

    /// A message arrived: the idle timer starts again.
    package mutating func messageReceived(at now: Instant) {
        guard case .open(var open) = state else { return }
        let now = Tick(now)
        if now > open.lastActivity { open.lastActivity = now }
        state = .open(open)
    }

    /// Any frame arrived (a pong included): the peer is alive. An owed ping is no longer needed.
    package mutating func peerFrameReceived() {
        guard case .open(var open) = state else { return }
        switch open.liveness {
        case .heard: return
        case .pingOwed(let at), .awaitingPeer(let at): open.liveness = .heard(lastPingAt: at)
        }
        state = .open(open)
    }

    /// Whether the close handshake is still open on our side, so that frames may go out (a pong
    /// to the peer's ping, an echo): after our close frame only the peer's close matters (RFC 6455 §5.5.1).
    package var isHandshakeOpen: Bool {
        switch state {
        case .open, .draining: true
        case .closeSent, .closingSocket, .finished: false
        }
    }

    package enum PeerCloseAction: Sendable, Equatable {
        /// Write a close frame with this code (an answer, or a refusal), then close the socket.
        case sendCloseThenCloseSocket(WebSocketErrorCode)
        /// Our close frame is out already: close the socket.
        case closeSocket
        /// The socket is being closed already.
        case alreadyClosing
    }

    /// The peer's close frame arrived: answered with `answer` (its own code, RFC 6455 §5.5.1).
    package mutating func peerClosed(answer: WebSocketErrorCode, now: Instant) -> PeerCloseAction {
        endHandshake(code: answer, ending: serverEnding ?? .client, now: Tick(now))
    }

    /// The peer broke the protocol: refused with `code`.
    package mutating func protocolViolation(_ code: WebSocketErrorCode, now: Instant) -> PeerCloseAction {
        endHandshake(code: code, ending: .protocolViolation(code), now: Tick(now))
    }

    /// Closes at once with `code`, without a notice or the queued frames (the echo endpoint on shutdown).
    package mutating func closeNow(_ code: WebSocketErrorCode, now: Instant) -> PeerCloseAction {
        endHandshake(code: code, ending: serverEnding ?? .client, now: Tick(now))
    }

    private mutating func endHandshake(code: WebSocketErrorCode, ending: Ending, now: Tick) -> PeerCloseAction {
        switch state {
        case .open, .draining:
            state = .closingSocket(since: now, ending: ending)
            _ = outbound.queue.removeAll()
            return .sendCloseThenCloseSocket(code)
        case .closeSent(_, let request):
            state = .closingSocket(since: now, ending: .server(request))
            return .closeSocket
        case .closingSocket, .finished:
            return .alreadyClosing
        }
    }

    /// NIO's protocol error handler, in front of the connection's handler, refused a frame with
    /// `code` and closes the socket itself.
    package mutating func refusedByFrameDecoder(_ code: WebSocketErrorCode, now: Instant) {
        let now = Tick(now)
        switch state {
        case .open, .draining, .closeSent:
            state = .closingSocket(since: now, ending: .protocolViolation(code))
            _ = outbound.queue.removeAll()
        case .closingSocket, .finished: break
        }
    }

    /// The peer will send nothing more (its half of the TCP connection closed, or an error):
    /// whether the caller must close the socket.
    package mutating func inputEnded(now: Instant) -> Bool {
        let now = Tick(now)
        switch state {
        case .open, .draining, .closeSent:
            state = .closingSocket(since: now, ending: serverEnding ?? .client)
            _ = outbound.queue.removeAll()
            return true
        case .closingSocket, .finished:
            return false
        }
    }

    /// The socket is closed: how the connection ended, for its log line.
    package mutating func socketClosed() -> Ending {
        _ = outbound.queue.removeAll()
        defer { state = .finished }
        switch state {
        case .open: return .client
        case .draining(let draining): return .server(draining.request)
        case .closeSent(_, let request): return .server(request)
        case .closingSocket(_, let ending): return ending
        case .finished: return .client
        }
    }

    /// The server's close, requested or sent, if there is one.
    private var serverEnding: Ending? {
        switch state {
        case .draining(let draining): .server(draining.request)
        case .closeSent(_, let request): .server(request)
        case .closingSocket(_, let ending): ending
        case .open, .finished: nil
        }
    }

    // MARK: - The sweep

    /// The time-based rules' settings.
    package struct SweepRules: Sendable {
        package var writeDeadline: Duration
        package var closeGrace: Duration
        /// How often a quiet connection is pinged; nil sends no pings.
        package var pingInterval: Duration?

        package init(writeDeadline: Duration, closeGrace: Duration, pingInterval: Duration? = nil) {
            self.writeDeadline = writeDeadline
            self.closeGrace = closeGrace
            self.pingInterval = pingInterval
        }
    }

    /// Why the sweep closes a connection.
    package enum SweepClose: Sendable, Equatable {
        /// No inbound message for the idle timeout.
        case idle
        /// The credential expired (`token_expired`, 4401).
        case tokenExpired
        /// A write passed its deadline and the failure streak reached the threshold (1013).
        case backpressure
    }

    /// Why the sweep closes a socket outright.
    package enum ForceClose: Sendable, Equatable {
        /// The peer sent nothing for a ping interval after a ping.
        case pingTimeout
        /// The close took longer than the grace.
        case closeGraceElapsed
    }

    package enum SweepAction: Sendable, Equatable {
        case none
        /// A write passed its deadline: a send failure, counted once per stall.
        case writeDeadlineMissed
        /// A close is requested; `scheduleFlush` when the caller must schedule the flush that sends it.
        case close(SweepClose, scheduleFlush: Bool)
        /// A ping is owed; the caller schedules the flush that writes it when `scheduleFlush`.
        case sendPing(scheduleFlush: Bool)
        /// Close the socket without a handshake.
        case forceClose(ForceClose)
    }

    /// Applies the time-based rules, the first that applies, in this order: the write deadline,
    /// the credential's expiry, the idle timeout, the ping; while closing, the close grace.
    package mutating func sweep(now: Instant, rules: SweepRules) -> SweepAction {
        let now = Tick(now)
        switch state {
        case .open(var open):
            if case .stalled(let since) = open.stall, since.duration(to: now) >= rules.writeDeadline {
                open.stall = .counted(since: since)
                if case .rejected(let failures, true) = outbound.queue.recordFailure() {
                    return .close(.backpressure, scheduleFlush: close(.backpressure(failures: failures), now: now))
                }
                state = .open(open)
                return .writeDeadlineMissed
            }
            if let expiry = open.credentialExpiry, now >= expiry {
                return .close(.tokenExpired, scheduleFlush: close(.tokenExpired, now: now))
            }
            if open.lastActivity.duration(to: now) >= open.idleTimeout {
                let request = CloseRequest.idleTimeout(after: Int(open.idleTimeout.components.seconds))
                return .close(.idle, scheduleFlush: close(request, now: now))
            }
            guard let interval = rules.pingInterval, open.liveness.lastPingAt.duration(to: now) >= interval else {
                state = .open(open)
                return .none
            }
            if case .heard = open.liveness {
                open.liveness = .pingOwed(at: now)
                let schedule = outbound.scheduleFlush()
                state = .open(open)
                return .sendPing(scheduleFlush: schedule)
            }
            return .forceClose(.pingTimeout)
        case .draining(let draining):
            return draining.since.duration(to: now) >= rules.closeGrace ? .forceClose(.closeGraceElapsed) : .none
        case .closeSent(let since, _), .closingSocket(let since, _):
            return since.duration(to: now) >= rules.closeGrace ? .forceClose(.closeGraceElapsed) : .none
        case .finished:
            return .none
        }
    }

    /// Empties the queue without writing: for micro-benchmarks of the fan-out, which have no socket.
    package mutating func drainForBenchmark() {
        guard case .open = state else { return }
        _ = outbound.queue.removeAll()
        outbound.flush = .idle
    }
}
