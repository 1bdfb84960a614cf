package import Foundation
package import GeneratedMessages
package import Logging
package import NIOCore
import Synchronization

/// One client connection as the rest of the gateway sees it: an id and its lifecycle
/// (``ConnectionStateMachine``: the outbound queue, the time-based rules, the close handshake).
/// Fan-out, the connection's channel handler and the sweeper meet here, under one lock, and
/// perform the machine's actions on the socket through its hooks.
package final class Connection: Sendable {
    package enum EnqueueOutcome: Equatable, Sendable {
        case enqueued
        /// The frame did not fit; `closing` is set when this failure started a backpressure disconnect.
        case failed(consecutiveFailures: Int, closing: Bool)
        /// The connection is closing or closed and takes no more frames.
        case notOpen
    }

    /// How the connection reaches its socket: set by its channel handler, dropped when it finishes
    /// (which also breaks the cycle connection → hooks → handler → connection).
    package struct SocketHooks: Sendable {
        /// The channel's event loop; nil runs `flushOnLoop` in place (tests, micro-benchmarks).
        package var eventLoop: (any EventLoop)?
        /// Runs the handler's flush, which performs `nextFlush`'s actions until it is done; runs on `eventLoop`.
        package var flushOnLoop: @Sendable () -> Void
        /// Closes the socket without a handshake: the last resort for a peer that stopped reading.
        package var forceClose: @Sendable () -> Void

        package init(eventLoop: (any EventLoop)?, flushOnLoop: @escaping @Sendable () -> Void, forceClose: @escaping @Sendable () -> Void) {
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
        var machine: ConnectionStateMachine
        var hooks: SocketHooks?
        /// Where replayed history meets the live stream; nil once it has nothing to hold or drop.
        var gate: ReplayGate?

        /// The hooks to schedule a flush with, when the machine says one is owed.
        func hooks(if schedule: Bool) -> SocketHooks? { schedule ? hooks : nil }
    }

    package let id: String
    package let endpoint: DashboardEndpoint
    /// Whose credential opened it (a JWT's `sub`); nil without one.
    package let subject: String?
    package let openedAt: Date
    /// The server's logger, shared; `logger` adds this connection's metadata when something is logged.
    private let baseLogger: Logger
    private let state: Mutex<State>

    package init(
        id: String,
        endpoint: DashboardEndpoint,
        subject: String? = nil,
        queue: OutboundQueue,
        idleTimeout: Duration,
        credentialExpiry: ContinuousClock.Instant? = nil,
        now: ContinuousClock.Instant,
        logger: Logger,
        hooks: SocketHooks,
        holdUntilGreeting: Bool = false
    ) {
        self.id = id
        self.endpoint = endpoint
        self.subject = subject
        self.openedAt = Date()
        self.baseLogger = logger
        self.state = Mutex(
            State(
                machine: ConnectionStateMachine(queue: queue, idleTimeout: idleTimeout, credentialExpiry: credentialExpiry, now: now),
                hooks: hooks,
                gate: holdUntilGreeting ? ReplayGate(capacity: queue.maxFrames) : nil
            )
        )
    }

    /// Built when a line is logged (rarely): a copy with metadata kept per connection would cost
    /// about 700 bytes of each connection's memory.
    package var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "connection_id"] = "\(id)"
        logger[metadataKey: "endpoint"] = "\(endpoint.rawValue)"
        return logger
    }

    /// The lifecycle's state, for tests and diagnostics.
    package var machineState: ConnectionStateMachine.State {
        state.withLock { $0.machine.state }
    }

    // MARK: - Fan-out side

    /// Queues a frame without waiting; a full queue is a send failure.
    package func enqueue(_ frame: OutboundFrame, now: ContinuousClock.Instant = .now) -> EnqueueOutcome {
        let (outcome, flush) = enqueueDeferringFlush(frame, now: now)
        flush?.scheduleFlush()
        return outcome
    }

    /// Queues a frame into a broadcast's batch: the flush it needs joins `flushes`, which the
    /// caller submits once for all recipients (one event-loop task per loop, not per connection).
    package func enqueue(_ frame: OutboundFrame, now: ContinuousClock.Instant, flushes: inout FlushBatch) -> EnqueueOutcome {
        let (outcome, flush) = enqueueDeferringFlush(frame, now: now)
        if let flush { flushes.add(flush) }
        return outcome
    }

    private func enqueueDeferringFlush(_ frame: OutboundFrame, now: ContinuousClock.Instant) -> (EnqueueOutcome, SocketHooks?) {
        state.withLock { state -> (EnqueueOutcome, SocketHooks?) in
            switch state.gate?.admit(frame) {
            case nil, .pass?:
                break
            case .hold?, .drop?:
                return (.enqueued, nil)
            case .overflow?:
                // Held past what its queue may hold: a slow consumer, like a full queue.
                let accepted = state.machine.requestClose(.backpressure(failures: 1), now: now)
                if case .accepted(let schedule) = accepted { return (.failed(consecutiveFailures: 1, closing: true), state.hooks(if: schedule)) }
                return (.notOpen, nil)
            }
            return switch state.machine.enqueue(frame, now: now) {
            case .enqueued(let schedule): (.enqueued, state.hooks(if: schedule))
            case .rejected(let failures): (.failed(consecutiveFailures: failures, closing: false), nil)
            case .rejectedAndClosing(let failures): (.failed(consecutiveFailures: failures, closing: true), state.hooks)
            case .notOpen: (.notOpen, nil)
            }
        }
    }

    // MARK: - Replays

    /// Starts holding the live frames of `topics` until their recovered events are released.
    package func hold(_ topics: Set<Subscription>) {
        state.withLock { state in
            if state.gate == nil { state.gate = ReplayGate(capacity: state.machine.queueCapacity, holdingEverything: false) }
            state.gate?.hold(topics)
        }
    }

    /// Queues `leading` (the greeting, or a `subscription_updated`), then each topic's replayed
    /// frames, then the live frames held meanwhile that no replay or greeting position covers;
    /// ends the hold of `topics` (of everything, with `greeting`). Returns the frames that did not fit.
    @discardableResult
    package func release(
        _ topics: Set<Subscription>,
        greeting: Bool,
        leading: [OutboundFrame],
        replays: [Subscription: [OutboundFrame]] = [:],
        covered: [Subscription: StreamPosition],
        now: ContinuousClock.Instant = .now
    ) -> Int {
        let (rejected, flush) = state.withLock { state -> (Int, SocketHooks?) in
            guard var gate = state.gate else { return (0, nil) }
            state.gate = nil
            let frames = gate.release(topics, greeting: greeting, leading: leading, replays: replays, covered: covered)
            if !gate.isIdle { state.gate = gate }
            var (rejected, schedule) = (0, false)
            for frame in frames {
                switch state.machine.enqueue(frame, now: now) {
                case .enqueued(let owed): schedule = schedule || owed
                case .rejected, .rejectedAndClosing: rejected += 1
                case .notOpen: return (0, nil)
                }
            }
            return (rejected, state.hooks(if: schedule || rejected > 0))
        }
        flush?.scheduleFlush()
        return rejected
    }

    /// Asks for a notice and a close. The first request wins; returns whether this one did.
    @discardableResult
    package func requestClose(_ request: CloseRequest, now: ContinuousClock.Instant = .now) -> Bool {
        let (accepted, flush) = state.withLock { state -> (Bool, SocketHooks?) in
            switch state.machine.requestClose(request, now: now) {
            case .accepted(let schedule): (true, state.hooks(if: schedule))
            case .ignored: (false, nil)
            }
        }
        flush?.scheduleFlush()
        return accepted
    }

    // MARK: - The channel handler's side (the channel's event loop)

    /// Runs one event of the handler's (a frame read, a flush step, a writability change, the
    /// peer's close) through the machine; the handler performs the action that comes out. Events
    /// that need the socket hooks (an enqueue, a close request, the sweep) have their own methods.
    func withMachine<Action>(_ event: (inout ConnectionStateMachine) -> Action) -> Action {
        state.withLock { event(&$0.machine) }
    }

    /// A message arrived: the idle timer starts again.
    package func recordActivity(at now: ContinuousClock.Instant) {
        state.withLock { $0.machine.messageReceived(at: now) }
    }

    /// The socket closed: the connection takes no more frames and lets go of its socket. Returns how it ended.
    package func markFinished() -> ConnectionStateMachine.Ending {
        state.withLock { state in
            state.hooks = nil
            return state.machine.socketClosed()
        }
    }

    /// Empties the queue without writing: for micro-benchmarks of the fan-out, which have no socket.
    package func drainForBenchmark() {
        state.withLock { $0.machine.drainForBenchmark() }
    }

    // MARK: - Sweeper side

    /// Applies the time-based rules and performs what they ask of the socket: a flush (for a
    /// ping or a close) or a close outright.
    package func sweep(now: ContinuousClock.Instant, rules: ConnectionStateMachine.SweepRules) -> ConnectionStateMachine.SweepAction {
        let (action, hooks) = state.withLock { state in (state.machine.sweep(now: now, rules: rules), state.hooks) }
        switch action {
        case .close(_, scheduleFlush: true), .sendPing(scheduleFlush: true): hooks?.scheduleFlush()
        case .forceClose: hooks?.forceClose()
        case .none, .writeDeadlineMissed, .close, .sendPing: break
        }
        return action
    }

    /// Closes the socket outright.
    package func forceClose() {
        state.withLock { $0.hooks?.forceClose }?()
    }
}
