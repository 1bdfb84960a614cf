public import Foundation
public import GeneratedMessages
public import Logging
public import NIOCore
import Synchronization

/// One client connection as the rest of the gateway sees it: an id, its
/// topics, its bounded outbound queue and its lifecycle. Fan-out, the
/// connection's channel handler and the sweeper meet here, under one lock.
public final class Connection: Sendable {
    public enum Phase: Sendable, Equatable {
        case open
        /// A close was requested at `since`; the flusher sends the notice and the close frame once
        /// the queued frames are out.
        case closing(CloseRequest, since: ContinuousClock.Instant)
        /// The close frame is sent; the peer's answer is awaited.
        case closeSent(since: ContinuousClock.Instant)
        /// The socket is closed.
        case finished
    }

    public enum EnqueueOutcome: Equatable, Sendable {
        case enqueued
        /// The frame did not fit; `closing` is set when this failure started a backpressure disconnect.
        case failed(consecutiveFailures: Int, closing: Bool)
        /// The connection is closing or closed and takes no more frames.
        case notOpen
    }

    /// What the flusher does next, on the channel's event loop.
    public enum FlushStep: Sendable {
        /// Send a ping: the sweep found the connection quiet for a ping interval.
        case ping
        /// Write these frames, then ask again.
        case write([OutboundFrame])
        /// Every queued frame is out: send the notice and the close frame.
        case close(CloseRequest)
        /// The socket takes no more bytes for now; the channel's writability change resumes the flush.
        case waitForWritability
        /// Nothing to write; the next enqueue or close schedules a flush.
        case done
    }

    /// How the connection reaches its socket: set by its channel handler, dropped when it finishes
    /// (which also breaks the cycle connection → hooks → handler → connection).
    public struct SocketHooks: Sendable {
        /// The channel's event loop; nil runs `flushOnLoop` in place (tests, micro-benchmarks).
        public var eventLoop: (any EventLoop)?
        /// Calls `nextFlush` until it is done; runs on `eventLoop`.
        public var flushOnLoop: @Sendable () -> Void
        /// Closes the socket without a handshake: the last resort for a peer that stopped reading.
        public var forceClose: @Sendable () -> Void

        public init(eventLoop: (any EventLoop)?, flushOnLoop: @escaping @Sendable () -> Void, forceClose: @escaping @Sendable () -> Void) {
            self.eventLoop = eventLoop
            self.flushOnLoop = flushOnLoop
            self.forceClose = forceClose
        }

        func scheduleFlush() {
            guard let eventLoop else { return flushOnLoop() }
            eventLoop.execute(flushOnLoop)
        }
    }

    private struct State {
        var queue: OutboundQueue
        var idle: IdleTracker
        /// When the connection's credential stops being valid.
        var credentialExpiry: ContinuousClock.Instant?
        var phase: Phase = .open
        var subscriptions: Set<Subscription>
        var hooks: SocketHooks?
        /// Since when the socket has refused bytes while some were pending; nil while it takes them.
        var writeStalledSince: ContinuousClock.Instant?
        var writeDeadlineCounted = false
        /// A flush is scheduled or running, or waits for writability: no other is scheduled.
        var flushPending = false
        /// When the last ping went out, and whether the peer has sent any frame since.
        var lastPingAt: ContinuousClock.Instant
        var awaitingPeer = false
        var pingDue = false

        /// Marks a flush pending; returns the hooks to schedule it with when none was.
        mutating func requestFlush() -> SocketHooks? {
            guard !flushPending, let hooks else { return nil }
            flushPending = true
            return hooks
        }
    }

    /// The most one flush step takes off the queue for one write.
    static let batchFrames = 256
    static let batchBytes = 256 * 1_024

    public let id: String
    public let endpoint: DashboardEndpoint
    /// Whose credential opened it (a JWT's `sub`); nil without one.
    public let subject: String?
    public let openedAt: Date
    /// The server's logger, shared; `logger` adds this connection's metadata when something is logged.
    private let baseLogger: Logger
    private let state: Mutex<State>

    public init(
        id: String,
        endpoint: DashboardEndpoint,
        subject: String? = nil,
        subscriptions: Set<Subscription>,
        queue: OutboundQueue,
        idleTimeout: Duration,
        credentialExpiry: ContinuousClock.Instant? = nil,
        now: ContinuousClock.Instant,
        logger: Logger,
        hooks: SocketHooks
    ) {
        self.id = id
        self.endpoint = endpoint
        self.subject = subject
        self.openedAt = Date()
        self.baseLogger = logger
        self.state = Mutex(
            State(
                queue: queue,
                idle: IdleTracker(timeout: idleTimeout, now: now),
                credentialExpiry: credentialExpiry,
                subscriptions: subscriptions,
                hooks: hooks,
                lastPingAt: now
            )
        )
    }

    /// Built when a line is logged (rarely): a copy with metadata kept per connection would cost
    /// about 700 bytes of each connection's memory.
    public var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "connection_id"] = "\(id)"
        logger[metadataKey: "endpoint"] = "\(endpoint.rawValue)"
        return logger
    }

    public var subscriptions: Set<Subscription> {
        state.withLock { $0.subscriptions }
    }

    public var phase: Phase {
        state.withLock { $0.phase }
    }

    public var queuedBytes: Int {
        state.withLock { $0.queue.bytes }
    }

    func setSubscriptions(_ subscriptions: Set<Subscription>) {
        state.withLock { $0.subscriptions = subscriptions }
    }

    // MARK: - Fan-out side

    /// Queues a frame without waiting; a full queue is a send failure.
    public func enqueue(_ frame: OutboundFrame, now: ContinuousClock.Instant = .now) -> EnqueueOutcome {
        let (outcome, flush) = enqueueDeferringFlush(frame, now: now)
        flush?.scheduleFlush()
        return outcome
    }

    /// Queues a frame into a broadcast's batch: the flush it needs joins `flushes`, which the
    /// caller submits once for all recipients (one event-loop task per loop, not per connection).
    public func enqueue(_ frame: OutboundFrame, now: ContinuousClock.Instant, flushes: inout FlushBatch) -> EnqueueOutcome {
        let (outcome, flush) = enqueueDeferringFlush(frame, now: now)
        if let flush { flushes.add(flush) }
        return outcome
    }

    private func enqueueDeferringFlush(_ frame: OutboundFrame, now: ContinuousClock.Instant) -> (EnqueueOutcome, SocketHooks?) {
        state.withLock { state -> (EnqueueOutcome, SocketHooks?) in
            guard case .open = state.phase else { return (.notOpen, nil) }
            switch state.queue.enqueue(frame) {
            case .enqueued:
                return (.enqueued, state.requestFlush())
            case .rejected(let failures, let disconnect):
                guard disconnect else { return (.failed(consecutiveFailures: failures, closing: false), nil) }
                state.phase = .closing(.backpressure(failures: failures), since: now)
                _ = state.queue.removeAll()
                return (.failed(consecutiveFailures: failures, closing: true), state.requestFlush())
            }
        }
    }

    /// Asks for a notice and a close. The first request wins; returns whether this one did.
    @discardableResult
    public func requestClose(_ request: CloseRequest, now: ContinuousClock.Instant = .now) -> Bool {
        let (accepted, flush) = state.withLock { state -> (Bool, SocketHooks?) in
            guard case .open = state.phase else { return (false, nil) }
            state.phase = .closing(request, since: now)
            if request.dropsPendingFrames { _ = state.queue.removeAll() }
            return (true, state.requestFlush())
        }
        flush?.scheduleFlush()
        return accepted
    }

    // MARK: - Reader side

    /// A message arrived: the idle timer starts again.
    public func recordActivity(at now: ContinuousClock.Instant) {
        state.withLock { $0.idle.recordActivity(at: now) }
    }

    /// Any frame arrived (a pong included): the peer is alive.
    public func recordPeerAlive() {
        state.withLock { $0.awaitingPeer = false }
    }

    // MARK: - Flusher side (the channel's event loop)

    /// The flusher's next step. `writable` is the channel's writability: while it is false, queued
    /// frames wait and the write deadline runs.
    public func nextFlush(writable: Bool, now: ContinuousClock.Instant) -> FlushStep {
        state.withLock { state in
            switch state.phase {
            case .closeSent, .finished:
                state.flushPending = false
                return .done
            case .open, .closing:
                break
            }
            if state.pingDue, case .open = state.phase {
                state.pingDue = false
                return .ping
            }
            if !state.queue.isEmpty {
                guard writable else {
                    if state.writeStalledSince == nil { state.writeStalledSince = now }
                    return .waitForWritability
                }
                return .write(state.queue.dequeueBatch(maxFrames: Self.batchFrames, maxBytes: Self.batchBytes))
            }
            state.flushPending = false
            guard case .closing(let request, let since) = state.phase else { return .done }
            state.phase = .closeSent(since: since)
            return .close(request)
        }
    }

    /// The channel's writability changed: a stall starts the write deadline, its end stops it.
    /// Returns whether a flush waits for it.
    public func writabilityChanged(writable: Bool, now: ContinuousClock.Instant) -> Bool {
        state.withLock { state in
            if writable {
                state.writeStalledSince = nil
                state.writeDeadlineCounted = false
            } else if state.writeStalledSince == nil {
                state.writeStalledSince = now
            }
            return writable && state.flushPending
        }
    }

    /// A close frame went out outside the flusher (an answer to the peer's close, or to a protocol
    /// violation): the connection takes no more frames, and the sweep closes the socket if the
    /// frame is not out within the close grace.
    public func markCloseSent(now: ContinuousClock.Instant) {
        state.withLock { state in
            switch state.phase {
            case .open, .closing:
                state.phase = .closeSent(since: now)
                _ = state.queue.removeAll()
            case .closeSent, .finished:
                break
            }
        }
    }

    /// Marks the connection finished, whatever its phase: it takes no more frames and lets go of its socket.
    public func markFinished() {
        state.withLock { state in
            state.phase = .finished
            _ = state.queue.removeAll()
            state.hooks = nil
        }
    }

    /// Empties the queue without writing: for micro-benchmarks of the fan-out, which have no socket.
    public func drainForBenchmark() {
        state.withLock {
            _ = $0.queue.removeAll()
            $0.flushPending = false
        }
    }

    // MARK: - Sweeper side

    public struct SweepResult: Equatable, Sendable {
        /// The connection was idle and a close is now requested.
        public var closedForIdle = false
        /// A write passed its deadline: counted as a send failure.
        public var writeDeadlineMissed = false
        /// That failure started a backpressure disconnect.
        public var closedForBackpressure = false
        /// The credential expired and a close (`token_expired`, 4401) is now requested.
        public var closedForExpiry = false
        /// A ping is due: the connection was quiet for a ping interval.
        public var pingSent = false
        /// The peer sent nothing for a ping interval after a ping: the socket was closed outright.
        public var closedForPingTimeout = false
        /// The close has taken longer than the grace period: the socket was closed outright.
        public var forcedClose = false

        public init() {}
    }

    /// The time-based rules' settings.
    public struct SweepRules: Sendable {
        public var writeDeadline: Duration
        public var closeGrace: Duration
        /// How often a quiet connection is pinged; nil sends no pings.
        public var pingInterval: Duration?

        public init(writeDeadline: Duration, closeGrace: Duration, pingInterval: Duration? = nil) {
            self.writeDeadline = writeDeadline
            self.closeGrace = closeGrace
            self.pingInterval = pingInterval
        }
    }

    /// Applies the time-based rules: idle timeout, credential expiry, write deadline, pings, close grace.
    public func sweep(now: ContinuousClock.Instant, rules: SweepRules) -> SweepResult {
        var result = SweepResult()
        let (flush, forceClose) = state.withLock { state -> (SocketHooks?, (@Sendable () -> Void)?) in
            switch state.phase {
            case .open:
                if let stalled = state.writeStalledSince, !state.writeDeadlineCounted, stalled.duration(to: now) >= rules.writeDeadline {
                    state.writeDeadlineCounted = true
                    result.writeDeadlineMissed = true
                    if case .rejected(let failures, true) = state.queue.recordFailure() {
                        state.phase = .closing(.backpressure(failures: failures), since: now)
                        _ = state.queue.removeAll()
                        result.closedForBackpressure = true
                    }
                }
                if !result.closedForBackpressure, let expiry = state.credentialExpiry, now >= expiry {
                    state.phase = .closing(.tokenExpired, since: now)
                    _ = state.queue.removeAll()
                    result.closedForExpiry = true
                } else if !result.closedForBackpressure, state.idle.isIdle(at: now) {
                    state.phase = .closing(.idleTimeout(after: Int(state.idle.timeout.components.seconds)), since: now)
                    result.closedForIdle = true
                } else if !result.closedForBackpressure, let interval = rules.pingInterval, state.lastPingAt.duration(to: now) >= interval {
                    // Hummingbird's rule: a ping each interval; no frame at all by the next one means a dead peer.
                    if state.awaitingPeer {
                        result.closedForPingTimeout = true
                        return (nil, state.hooks?.forceClose)
                    }
                    state.lastPingAt = now
                    state.awaitingPeer = true
                    state.pingDue = true
                    result.pingSent = true
                }
                guard result.closedForIdle || result.closedForBackpressure || result.closedForExpiry || result.pingSent else { return (nil, nil) }
                return (state.requestFlush(), nil)
            case .closing(_, let since), .closeSent(let since):
                guard since.duration(to: now) >= rules.closeGrace else { return (nil, nil) }
                result.forcedClose = true
                return (nil, state.hooks?.forceClose)
            case .finished:
                return (nil, nil)
            }
        }
        flush?.scheduleFlush()
        forceClose?()
        return result
    }

    /// Closes the socket outright.
    public func forceClose() {
        state.withLock { $0.hooks?.forceClose }?()
    }
}
