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
        /// Handed to the socket at once, past the queue (``deliverLive(_:now:)``).
        case written
        /// The frame did not fit; `closing` is set when this failure started a backpressure disconnect.
        case failed(consecutiveFailures: Int, closing: Bool)
        /// The connection is closing or closed and takes no more frames.
        case notOpen
    }

    /// How the connection reaches its socket: set by its channel handler, dropped when it finishes
    /// (which also breaks the cycle connection → hooks → handler → connection).
    package struct SocketHooks: Sendable {
        /// What the connection asks of its channel handler, on the channel's event loop.
        package enum Work: Sendable {
            /// Perform `nextFlush`'s actions until it is done.
            case flush
            /// Write this frame now: nothing waits ahead of it (``ConnectionStateMachine/deliverLive(_:now:)``).
            case write(OutboundFrame)
            /// The part of a frame written straight to the socket that the socket did not take: it
            /// goes through the channel, ahead of anything written after it.
            case remainder(ByteBuffer)
        }

        /// The channel's event loop; nil does the work in place (tests, micro-benchmarks).
        package var eventLoop: (any EventLoop)?
        /// Does the work; runs on `eventLoop`.
        package var onLoop: @Sendable (Work) -> Void
        /// Closes the socket without a handshake: the last resort for a peer that stopped reading.
        package var forceClose: @Sendable () -> Void

        package init(eventLoop: (any EventLoop)?, onLoop: @escaping @Sendable (Work) -> Void, forceClose: @escaping @Sendable () -> Void) {
            self.eventLoop = eventLoop
            self.onLoop = onLoop
            self.forceClose = forceClose
        }
    }

    /// Does a piece of the socket's work (``SocketHooks/onLoop``).
    package typealias Perform = @Sendable (SocketHooks.Work) -> Void

    private struct State {
        var machine: ConnectionStateMachine
        /// The hooks, apart: a step that needs one does not copy (and touch) the other.
        var onLoop: Perform?
        var forceClose: (@Sendable () -> Void)?
        /// Where replayed history meets the live stream; nil once it has nothing to hold or drop.
        var gate: ReplayGate?
        /// The socket, while a frame written at once may go straight to it: offered by the channel
        /// handler while the connection is uncompressed and the channel holds nothing unwritten
        /// (``offerSocket(_:)``). Used and withdrawn only on the connection's event loop.
        var socket: DirectSocketWriter?

        /// The work to hand the socket's handler when the machine says a flush is owed.
        func flush(if owed: Bool) -> Perform? { owed ? onLoop : nil }
    }

    /// First, so that it shares the object's first cache line with the reference count: a
    /// broadcast to thousands of connections finds each one cold, and every line it does not
    /// touch is a miss it does not take.
    private let state: Mutex<State>
    package let id: String
    package let endpoint: DashboardEndpoint
    /// Whose credential opened it (a JWT's `sub`); nil without one.
    package let subject: String?
    package let openedAt: Date
    /// The event loop its channel handler runs on: where broadcasts reach it (``LoopFanOut``) and
    /// its flushes run. Nil in tests and micro-benchmarks, which do the socket's work in place.
    package let eventLoop: (any EventLoop)?
    /// The server's logger, shared; `logger` adds this connection's metadata when something is logged.
    private let baseLogger: Logger

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
        self.eventLoop = hooks.eventLoop
        self.baseLogger = logger
        self.state = Mutex(
            State(
                machine: ConnectionStateMachine(queue: queue, idleTimeout: idleTimeout, credentialExpiry: credentialExpiry, now: now),
                onLoop: hooks.onLoop,
                forceClose: hooks.forceClose,
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

    /// Queues a frame without waiting; a full queue is a send failure. Called on the connection's
    /// event loop, the frame goes ahead of broadcasts handed to the loop and not yet delivered:
    /// a frame that reports stream positions goes through ``afterPendingBroadcasts(_:)``.
    package func enqueue(_ frame: OutboundFrame, now: ContinuousClock.Instant = .now) -> EnqueueOutcome {
        let (outcome, flush) = enqueueDeferringFlush(frame, now: now)
        if let flush { scheduleFlush(flush) }
        return outcome
    }

    /// A broadcast's frame, on the connection's event loop (``LoopFanOut``): written at once when
    /// nothing waits ahead of it, else queued and, when the flush is owed, flushed here and now.
    package func deliverLive(_ frame: OutboundFrame, now: ContinuousClock.Instant) -> EnqueueOutcome {
        let (outcome, live, perform) = state.withLock { state -> (EnqueueOutcome, LiveWrite?, Perform?) in
            if let (outcome, flush) = Self.admit(frame, through: &state, now: now) { return (outcome, nil, flush) }
            switch state.machine.deliverLive(frame, now: now) {
            case .writeNow:
                // Straight to the socket when the handler offers it: a broadcast to thousands of
                // connections then touches neither the hook's closure nor the handler, two objects
                // every other connection's write evicted since this one's last frame.
                if let socket = state.socket { return (.written, .socket(socket), nil) }
                return (.written, .handler, state.onLoop)
            case .queued(let action):
                let (outcome, flush) = Self.outcome(of: action, in: state)
                return (outcome, nil, flush)
            }
        }
        switch live {
        case .socket(let socket)?:
            // On the connection's event loop, where the handler withdraws the socket: it is still offered.
            if let rest = socket.send(frame.wire) { state.withLock { $0.onLoop }?(.remainder(rest)) }
        case .handler?:
            // The work is made here, not under the lock: passed down as it is, the frame, which every
            // loop shares, is not retained once per recipient.
            perform?(.write(frame))
        case nil:
            perform?(.flush)
        }
        return outcome
    }

    /// Where ``deliverLive(_:now:)`` writes a frame at once.
    private enum LiveWrite {
        case socket(DirectSocketWriter)
        case handler
    }

    /// The channel handler offers the socket for frames written at once (nil withdraws it), on the
    /// connection's event loop: while the connection is uncompressed and the channel holds nothing
    /// unwritten, so that the bytes keep their order on the wire.
    func offerSocket(_ socket: DirectSocketWriter?) {
        state.withLock { $0.socket = socket }
    }

    /// Queues a broadcast's frame on the connection's event loop, among several delivered together:
    /// the flush it needs joins `owed`, which the caller runs once every frame is queued, so the
    /// connection writes them in one go.
    package func enqueue(_ frame: OutboundFrame, now: ContinuousClock.Instant, owed: inout [Perform]) -> EnqueueOutcome {
        let (outcome, flush) = enqueueDeferringFlush(frame, now: now)
        if let flush { owed.append(flush) }
        return outcome
    }

    /// Runs `body` on the connection's event loop after the broadcasts already handed to it (in
    /// place without a loop). A greeting or a reply that says where a topic stands goes this way: a
    /// broadcast at or below that position, recorded before the position was read, is then
    /// delivered (or held and dropped by the replay gate) before it, never after.
    package func afterPendingBroadcasts(_ body: @escaping @Sendable () -> Void) {
        guard let eventLoop else { return body() }
        eventLoop.execute(body)
    }

    private func scheduleFlush(_ onLoop: @escaping Perform) {
        guard let eventLoop else { return onLoop(.flush) }
        eventLoop.execute { onLoop(.flush) }
    }

    private func enqueueDeferringFlush(_ frame: OutboundFrame, now: ContinuousClock.Instant) -> (EnqueueOutcome, Perform?) {
        state.withLock { state in
            if let refused = Self.admit(frame, through: &state, now: now) { return refused }
            return Self.outcome(of: state.machine.enqueue(frame, now: now), in: state)
        }
    }

    /// The replay gate's say on a frame: nil lets it through to the machine; otherwise what the
    /// caller returns (held or dropped: taken; overflowing: a slow consumer, like a full queue).
    private static func admit(
        _ frame: OutboundFrame,
        through state: inout State,
        now: ContinuousClock.Instant
    ) -> (EnqueueOutcome, Perform?)? {
        switch state.gate?.admit(frame) {
        case nil, .pass?:
            return nil
        case .hold?, .drop?:
            return (.enqueued, nil)
        case .overflow?:
            let accepted = state.machine.requestClose(.backpressure(failures: 1), now: now)
            if case .accepted(let schedule) = accepted { return (.failed(consecutiveFailures: 1, closing: true), state.flush(if: schedule)) }
            return (.notOpen, nil)
        }
    }

    private static func outcome(
        of action: ConnectionStateMachine.EnqueueAction,
        in state: State
    ) -> (EnqueueOutcome, Perform?) {
        switch action {
        case .enqueued(let schedule): (.enqueued, state.flush(if: schedule))
        case .rejected(let failures): (.failed(consecutiveFailures: failures, closing: false), nil)
        case .rejectedAndClosing(let failures): (.failed(consecutiveFailures: failures, closing: true), state.flush(if: true))
        case .notOpen: (.notOpen, nil)
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
    /// ends the hold of `topics` (of everything, with `greeting`). Runs after the broadcasts already
    /// handed to the connection's event loop (``afterPendingBroadcasts(_:)``): `covered` was read
    /// after them. Frames that do not fit the queue are send failures, as any other.
    package func release(
        _ topics: Set<Subscription>,
        greeting: Bool,
        leading: [OutboundFrame],
        replays: [Subscription: [OutboundFrame]] = [:],
        covered: [Subscription: StreamPosition],
        now: ContinuousClock.Instant = .now
    ) {
        afterPendingBroadcasts {
            self.releaseNow(topics, greeting: greeting, leading: leading, replays: replays, covered: covered, now: now)
        }
    }

    private func releaseNow(
        _ topics: Set<Subscription>,
        greeting: Bool,
        leading: [OutboundFrame],
        replays: [Subscription: [OutboundFrame]],
        covered: [Subscription: StreamPosition],
        now: ContinuousClock.Instant
    ) {
        let flush = state.withLock { state -> Perform? in
            guard var gate = state.gate else { return nil }
            state.gate = nil
            let frames = gate.release(topics, greeting: greeting, leading: leading, replays: replays, covered: covered)
            if !gate.isIdle { state.gate = gate }
            var (rejected, schedule) = (0, false)
            for frame in frames {
                switch state.machine.enqueue(frame, now: now) {
                case .enqueued(let owed): schedule = schedule || owed
                case .rejected, .rejectedAndClosing: rejected += 1
                case .notOpen: return nil
                }
            }
            return state.flush(if: schedule || rejected > 0)
        }
        if let flush { scheduleFlush(flush) }
    }

    /// Asks for a notice and a close. The first request wins; returns whether this one did.
    @discardableResult
    package func requestClose(_ request: CloseRequest, now: ContinuousClock.Instant = .now) -> Bool {
        let (accepted, flush) = state.withLock { state -> (Bool, Perform?) in
            switch state.machine.requestClose(request, now: now) {
            case .accepted(let schedule): (true, state.flush(if: schedule))
            case .ignored: (false, nil)
            }
        }
        if let flush { scheduleFlush(flush) }
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
            state.onLoop = nil
            state.forceClose = nil
            state.socket = nil
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
        // The hooks are taken only when the action needs one: nearly every sweep of nearly every
        // connection needs none, and each taken is a retain of an object no other step touches.
        let (action, onLoop, forceClose) = state.withLock { state -> (ConnectionStateMachine.SweepAction, Perform?, (@Sendable () -> Void)?) in
            let action = state.machine.sweep(now: now, rules: rules)
            switch action {
            case .close(_, scheduleFlush: true), .sendPing(scheduleFlush: true): return (action, state.onLoop, nil)
            case .forceClose: return (action, nil, state.forceClose)
            case .none, .writeDeadlineMissed, .close, .sendPing: return (action, nil, nil)
            }
        }
        if let onLoop { scheduleFlush(onLoop) }
        forceClose?()
        return action
    }

    /// Closes the socket outright.
    package func forceClose() {
        state.withLock { $0.forceClose }?()
    }
}
