public import Foundation
public import GeneratedMessages
public import Logging
import Synchronization

/// One client connection as the rest of the gateway sees it: an id, its
/// topics, its bounded outbound queue and its lifecycle. Fan-out, the
/// connection's writer and the sweeper meet here, under one lock.
public final class Connection: Sendable {
    public enum Phase: Sendable, Equatable {
        case open
        /// A close was requested at `since`; the writer sends the notice and the close frame.
        case closing(CloseRequest, since: ContinuousClock.Instant)
        /// The writer has sent the close frame; the peer's answer is awaited.
        case closeSent(since: ContinuousClock.Instant)
        /// The connection's session has ended.
        case finished
    }

    public enum EnqueueOutcome: Equatable, Sendable {
        case enqueued
        /// The frame did not fit; `closing` is set when this failure started a backpressure disconnect.
        case failed(consecutiveFailures: Int, closing: Bool)
        /// The connection is closing or closed and takes no more frames.
        case notOpen
    }

    /// What the closing writer does next: data frames are written by the flusher, not by it.
    public enum WriterAction: Sendable {
        case close(CloseRequest)
        case finish
    }

    private struct State {
        var queue: OutboundQueue
        var idle: IdleTracker
        /// When the connection's credential stops being valid.
        var credentialExpiry: ContinuousClock.Instant?
        var phase: Phase = .open
        var subscriptions: Set<Subscription>
        var writerWaiter: CheckedContinuation<Void, Never>?
        var writeStartedAt: ContinuousClock.Instant?
        var writeDeadlineCounted = false
        /// A flush is scheduled on the event loop, or its write is in flight.
        var flushPending = false

        /// Whether the writer has something to do: send the close once every queued frame is out.
        var hasWriterWork: Bool {
            switch phase {
            case .open: false
            case .closing: queue.isEmpty && !flushPending
            case .closeSent, .finished: true
            }
        }
    }

    /// The most one flush takes off the queue for one write.
    static let batchFrames = 256
    static let batchBytes = 256 * 1_024

    public let id: String
    public let endpoint: DashboardEndpoint
    /// Whose credential opened it (a JWT's `sub`); nil without one.
    public let subject: String?
    public let openedAt: Date
    public let logger: Logger
    private let state: Mutex<State>
    /// Closes the socket without a handshake: the last resort for a peer that stopped reading.
    private let forceCloseSocket: @Sendable () -> Void
    /// Asks for `takeFlushBatch` to be called on the channel's event loop: frames are written there,
    /// with no task switch per frame.
    private let scheduleFlush: @Sendable (Connection) -> Void

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
        forceCloseSocket: @escaping @Sendable () -> Void,
        scheduleFlush: @escaping @Sendable (Connection) -> Void
    ) {
        self.scheduleFlush = scheduleFlush
        self.id = id
        self.endpoint = endpoint
        self.subject = subject
        self.openedAt = Date()
        self.logger = logger
        self.forceCloseSocket = forceCloseSocket
        self.state = Mutex(
            State(queue: queue, idle: IdleTracker(timeout: idleTimeout, now: now), credentialExpiry: credentialExpiry, subscriptions: subscriptions)
        )
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
        var flush = false
        let (outcome, waiter) = state.withLock { state -> (EnqueueOutcome, CheckedContinuation<Void, Never>?) in
            guard case .open = state.phase else { return (.notOpen, nil) }
            switch state.queue.enqueue(frame) {
            case .enqueued:
                if !state.flushPending {
                    state.flushPending = true
                    flush = true
                }
                return (.enqueued, nil)
            case .rejected(let failures, let disconnect):
                guard disconnect else { return (.failed(consecutiveFailures: failures, closing: false), nil) }
                state.phase = .closing(.backpressure(failures: failures), since: now)
                _ = state.queue.removeAll()
                let waiter = state.writerWaiter
                state.writerWaiter = nil
                return (.failed(consecutiveFailures: failures, closing: true), waiter)
            }
        }
        waiter?.resume()
        if flush { scheduleFlush(self) }
        return outcome
    }

    /// Asks the writer to send a notice and close. The first request wins; returns whether this one did.
    @discardableResult
    public func requestClose(_ request: CloseRequest, now: ContinuousClock.Instant = .now) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard case .open = state.phase else { return (false, nil) }
            state.phase = .closing(request, since: now)
            if request.dropsPendingFrames { _ = state.queue.removeAll() }
            let waiter = state.writerWaiter
            state.writerWaiter = nil
            return (true, waiter)
        }
        waiter?.resume()
        return accepted
    }

    // MARK: - Reader side

    public func recordActivity(at now: ContinuousClock.Instant) {
        state.withLock { $0.idle.recordActivity(at: now) }
    }

    // MARK: - Writer side

    /// The writer's next step: the close to send once every queued frame is out, or the end.
    /// Waits while there is nothing to do; returns `.finish` when the task is cancelled.
    public func nextWriterAction() async -> WriterAction {
        while true {
            let action = state.withLock { state -> WriterAction? in
                switch state.phase {
                case .closeSent, .finished:
                    return .finish
                case .closing(let request, let since):
                    // Queued frames go out before the notice unless the request dropped them.
                    guard state.queue.isEmpty, !state.flushPending else { return nil }
                    state.phase = .closeSent(since: since)
                    return .close(request)
                case .open:
                    return nil
                }
            }
            if let action { return action }
            if Task.isCancelled { return .finish }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.hasWriterWork || Task.isCancelled { return true }
                        state.writerWaiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                    defer { state.writerWaiter = nil }
                    return state.writerWaiter
                }
                waiter?.resume()
            }
        }
    }

    // MARK: - Flusher side (the channel's event loop)

    /// The next frames to write, stamping the write's start for the deadline; empty when the
    /// queue is drained, which ends the flush (and lets a closing writer send its close).
    public func takeFlushBatch(now: ContinuousClock.Instant) -> [OutboundFrame] {
        let (batch, waiter) = state.withLock { state -> ([OutboundFrame], CheckedContinuation<Void, Never>?) in
            let batch = state.queue.dequeueBatch(maxFrames: Self.batchFrames, maxBytes: Self.batchBytes)
            if batch.isEmpty {
                state.flushPending = false
                state.writeStartedAt = nil
                guard state.hasWriterWork else { return ([], nil) }
                defer { state.writerWaiter = nil }
                return ([], state.writerWaiter)
            }
            state.writeStartedAt = now
            state.writeDeadlineCounted = false
            return (batch, nil)
        }
        waiter?.resume()
        return batch
    }

    /// A write failed (the socket is gone): the flush ends.
    public func flushFailed() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.flushPending = false
            state.writeStartedAt = nil
            guard state.hasWriterWork else { return nil }
            defer { state.writerWaiter = nil }
            return state.writerWaiter
        }
        waiter?.resume()
    }

    /// Marks the connection finished, whatever its phase: it takes no more frames.
    public func markFinished() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.phase = .finished
            _ = state.queue.removeAll()
            defer { state.writerWaiter = nil }
            return state.writerWaiter
        }
        waiter?.resume()
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
        /// The close has taken longer than the grace period: the socket was closed outright.
        public var forcedClose = false

        public init() {}
    }

    /// Applies the time-based rules: idle timeout, write deadline, close grace.
    public func sweep(now: ContinuousClock.Instant, writeDeadline: Duration, closeGrace: Duration) -> SweepResult {
        var result = SweepResult()
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            switch state.phase {
            case .open:
                if let started = state.writeStartedAt, !state.writeDeadlineCounted, started.duration(to: now) >= writeDeadline {
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
                }
            case .closing(_, let since), .closeSent(let since):
                if since.duration(to: now) >= closeGrace { result.forcedClose = true }
            case .finished:
                break
            }
            guard result.closedForIdle || result.closedForBackpressure || result.closedForExpiry else { return nil }
            defer { state.writerWaiter = nil }
            return state.writerWaiter
        }
        waiter?.resume()
        if result.forcedClose { forceCloseSocket() }
        return result
    }

    /// Closes the socket outright.
    public func forceClose() {
        forceCloseSocket()
    }
}
