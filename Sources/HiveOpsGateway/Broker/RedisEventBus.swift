import Foundation
import GeneratedMessages
package import Logging
import NIOCore
import NIOPosix
import Prometheus
package import RedisClient
import ServiceLifecycle
import Synchronization

/// The scale-out broker: a listener subscribed to the HiveOps channels relays
/// what producers publish to this node's subscribers, and REST broadcasts are
/// published to Redis so that they reach the subscribers of every node. Each event is recorded
/// in the shared history (``RedisHistoryStore``) before it is delivered, at the position every
/// node agrees on. While Redis is away the gateway keeps serving; broadcasts are delivered
/// locally, without a position.
package final class RedisEventBus: EventBus, Service, CustomStringConvertible {
    package struct Settings: Sendable {
        package var url: RedisURL
        /// The listener's reconnect backoff: first ceiling and cap (full jitter below them).
        package var backoffInitial: Duration = .milliseconds(500)
        package var backoffCap: Duration = .seconds(30)
        /// How often the subscribed connection is pinged, and how long the answer may take.
        package var pingInterval: Duration = .seconds(5)
        /// Connect, reply and subscribe-confirmation deadline.
        package var timeout: Duration = .seconds(3)

        package init(url: RedisURL) {
            self.url = url
        }
    }

    private struct Status {
        var connected = false
        var lastError: String? = "not connected yet"
    }

    private let settings: Settings
    private let router: EventRouter
    private let manager: ConnectionManager
    private let metrics: GatewayMetrics
    private let store: RedisHistoryStore
    private let logger: Logger
    private let status = Mutex(Status())
    private let publisher: SharedRedisConnection
    /// Broadcasts delivered here after a failed PUBLISH that Redis may still have executed.
    private let fallbacks: Mutex<FallbackDeliveries>
    private let random: @Sendable () -> Double

    package init(
        settings: Settings,
        router: EventRouter,
        manager: ConnectionManager,
        metrics: GatewayMetrics,
        store: RedisHistoryStore,
        logger: Logger,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.settings = settings
        self.router = router
        self.manager = manager
        self.metrics = metrics
        self.store = store
        self.publisher = SharedRedisConnection(url: settings.url, timeout: settings.timeout)
        var logger = logger
        logger[metadataKey: "redis"] = "\(settings.url)"
        self.logger = logger
        self.random = random
        // A PUBLISH held up in Redis comes back within a few timeouts, or not at all.
        self.fallbacks = Mutex(FallbackDeliveries(window: settings.timeout * 10))
    }

    package var description: String { "RedisEventBus(\(settings.url))" }

    // MARK: - EventBus

    package func publish(_ event: BroadcastEvent) async throws -> PublishReceipt {
        // Every node records the event under one id, and names it alike: give it one here.
        var event = event
        if event.correlationId == nil { event.correlationId = FrameEncoder.newCorrelationId() }
        var used: RedisConnection?
        do {
            let connection = try await publisher.get()
            used = connection
            // Counted when accepted: the frame reaches them once the listener hears it back.
            let subscribed = router.manager.subscriberCount(of: event.subscription)
            let reply = try await connection.command(
                ["PUBLISH", RedisChannels.broadcast, RedisChannels.broadcastPayload(event)],
                timeout: settings.timeout
            )
            guard case .integer(let nodes) = reply else {
                throw RedisConnection.ConnectionError.errorReply("PUBLISH answered \(reply), not an integer")
            }
            return PublishReceipt(clientsReached: subscribed, nodesReached: Int(nodes))
        } catch {
            // A timed-out connection is still open: close it, or every failed publish would leak one.
            // Only the one this publish used: another caller may already hold a fresh one.
            if let used {
                publisher.drop(used)
                // The PUBLISH may have been sent and executed, only its reply lost: if its copy
                // comes back through the listener, it is not delivered a second time.
                if let id = event.correlationId { fallbacks.withLock { $0.record(id, at: .now) } }
            }
            logger.warning("Redis publish failed: delivering on this node only", metadata: ["error": "\(error)"])
            return PublishReceipt(clientsReached: router.deliver(event), nodesReached: 1)
        }
    }

    package func health() -> [String: ComponentHealth] {
        let status = status.withLock { $0 }
        let redis =
            status.connected
            ? ComponentHealth(status: .healthy, detail: "subscribed")
            : ComponentHealth(status: .unhealthy, detail: "reconnecting with backoff", lastError: status.lastError)
        return [
            "broker": ComponentHealth(status: status.connected ? .healthy : .degraded, detail: "redis pub/sub; local delivery while Redis is away"),
            "redis": redis,
        ]
    }

    // MARK: - Listener

    /// Listens until graceful shutdown, reconnecting with exponential backoff and full jitter.
    package func run() async throws {
        await cancelWhenGracefulShutdown {
            var backoff = Backoff(initial: self.settings.backoffInitial, cap: self.settings.backoffCap)
            while !Task.isCancelled {
                do {
                    try await self.listen { backoff.reset() }
                } catch {
                    self.record(error: error)
                }
                if Task.isCancelled { break }
                self.metrics.redisReconnects.increment()
                let delay = backoff.nextDelay(unit: self.random)
                self.logger.info("Redis listener reconnecting", metadata: ["delay_ms": "\(delay / .milliseconds(1))"])
                try? await Task.sleep(for: delay)
            }
        }
        publisher.close()
        store.close()
        setConnected(false)
    }

    /// One connection's life: connect, subscribe to everything in one round trip, relay until it fails.
    /// Messages are relayed on the connection's event loop as they are read (`takePush`); the
    /// stream brings the rest (confirmations, pongs) to the task below.
    private func listen(onSubscribed: () -> Void) async throws {
        let order = ReadOrder()
        let connection = try await RedisConnection.connect(
            to: settings.url,
            connectTimeout: settings.timeout,
            replyTimeout: settings.timeout,
            group: RedisEventLoop.group,
            takePush: { push in self.takeMessage(push, order: order) }
        )
        defer { connection.close() }
        try await connection.sendWithoutReply([["SUBSCRIBE"] + RedisChannels.channels, ["PSUBSCRIBE"] + RedisChannels.patterns])
        let expected = RedisChannels.channels.count + RedisChannels.patterns.count
        let watchdog = ListenerWatchdog()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await self.watch(connection, watchdog: watchdog)
            }
            group.addTask {
                var confirmations = 0
                for await push in connection.pushes {
                    if try self.handle(push.value, watchdog: watchdog) {
                        confirmations += 1
                        if confirmations == expected {
                            watchdog.subscribed()
                            // Positions first: a client that connects once /health says healthy is told them.
                            await self.learnPositions()
                            self.setConnected(true)
                            self.logger.info("Redis listener subscribed")
                        }
                    }
                }
                throw RedisConnection.ConnectionError.closed
            }
            // Either task ending ends this connection; on shutdown, leave the channels politely first.
            do {
                _ = try await group.next()
            } catch is CancellationError {
                try? await connection.sendWithoutReply([["UNSUBSCRIBE"], ["PUNSUBSCRIBE"]])
            }
            group.cancelAll()
        }
        if watchdog.wasSubscribed { onSubscribed() }
    }

    /// Relays a pub/sub message where it was read, on the Redis event loop; returns false for any
    /// other push, which goes to the listener's stream.
    private func takeMessage(_ push: RedisPush, order: ReadOrder) -> Bool {
        guard let elements = push.value.elements, let kind = elements.first?.string else { return false }
        let relayed: Relayed?
        switch kind.lowercased() {
        case "message" where elements.count == 3:
            relayed = relay(channel: elements[1].string ?? "", pattern: nil, payload: elements[2], receivedAt: push.receivedAt)
        case "pmessage" where elements.count == 4:
            relayed = relay(channel: elements[2].string ?? "", pattern: elements[1].string, payload: elements[3], receivedAt: push.receivedAt)
        default:
            return false
        }
        if let relayed { dispatch(relayed, order: order) }
        return true
    }

    /// Returns whether the push was a subscription confirmation.
    private func handle(_ push: RESPValue, watchdog: ListenerWatchdog) throws -> Bool {
        if case .error(let message) = push { throw RedisConnection.ConnectionError.errorReply(message) }
        guard let elements = push.elements, let kind = elements.first?.string?.lowercased() else { return false }
        switch kind {
        case "subscribe", "psubscribe":
            return true
        case "pong":
            watchdog.ponged()
        default:
            break
        }
        return false
    }

    /// Where each topic stands, from Redis, once subscribed: a connection that registers now is told
    /// a position every later event comes after.
    private func learnPositions() async {
        do {
            for (topic, position) in try await store.positions() { router.history.advance(topic, to: position) }
        } catch {
            logger.warning("Cannot read the history's positions from Redis", metadata: ["error": "\(error)"])
        }
    }

    /// An event read from Redis, on its way to delivery: what to do with it and its record's answer to come.
    struct Relayed: Sendable {
        enum Action: Sendable {
            case deliver
            /// Recorded, not delivered here (none of its project index subscribers is connected here).
            case recordOnly
        }

        var action: Action
        var event: BroadcastEvent
        var position: EventLoopFuture<StreamPosition>?
        var receivedAt: ContinuousClock.Instant
        var dequeuedAt: ContinuousClock.Instant
    }

    /// Translates a published message and sends its record to the shared history; nil when there is
    /// nothing to deliver (an invalid payload, or a broadcast this node delivered already).
    private func relay(channel: String, pattern: String?, payload: RESPValue, receivedAt: ContinuousClock.Instant) -> Relayed? {
        let dequeuedAt = ContinuousClock.now
        metrics.redisMessagesReceived.increment()
        guard case .bulkString(let bytes?) = payload else {
            invalid(channel: channel, reason: "payload is not a string")
            return nil
        }
        let (action, event): (Relayed.Action, BroadcastEvent)
        switch RedisChannels.translate(channel: channel, pattern: pattern, payload: bytes, isConnected: { self.manager.connection(id: $0) != nil }) {
        case .deliver(let translated):
            if channel == RedisChannels.broadcast, let id = translated.correlationId, fallbacks.withLock({ $0.consume(id, at: .now) }) {
                logger.notice("Skipped a broadcast already delivered on this node after its PUBLISH failed", metadata: ["correlation_id": "\(id)"])
                return nil
            }
            (action, event) = (.deliver, translated)
        case .recordOnly(let translated):
            (action, event) = (.recordOnly, translated)
        case .invalid(let reason):
            invalid(channel: channel, reason: reason)
            return nil
        }
        let (named, position) = record(event, channel: channel, payload: bytes, receivedAt: receivedAt)
        return Relayed(action: action, event: named, position: position, receivedAt: receivedAt, dequeuedAt: dequeuedAt)
    }

    /// Delivers each event in the order it was read, once its record is answered. Every delivery runs
    /// on the Redis event loop (one thread): none waits for the record before it, and the answers of
    /// one read are delivered in one event-loop tick, so that their frames share each recipient's
    /// flush. `order` puts them back in reading order: a callback added after its answer came runs
    /// later than one added before its own.
    private func dispatch(_ relayed: Relayed, order: ReadOrder) {
        let sequence = order.take()
        let release: @Sendable (StreamPosition?) -> Void = { position in
            for (event, position) in order.ready(sequence, relayed, at: position) { self.deliver(event, at: position) }
        }
        guard let pending = relayed.position else { return release(nil) }
        pending.whenComplete { result in
            switch result {
            case .success(let position):
                release(position)
            case .failure(let error):
                self.notRecorded("Cannot record an event in the history", error: error)
                release(nil)
            }
        }
    }

    /// Delivers an event at its recorded position; without one when it could not be recorded.
    private func deliver(_ relayed: Relayed, at position: StreamPosition?) {
        switch relayed.action {
        case .deliver:
            router.deliver(relayed.event, recorded: position, arrivedAt: relayed.receivedAt, dequeuedAt: relayed.dequeuedAt)
        case .recordOnly:
            if let position { router.pass(relayed.event, recorded: position) }
        }
    }

    /// Counts and logs an event delivered without a position because it was not recorded.
    private func notRecorded(_ reason: String, error: (any Error)? = nil) {
        metrics.historyRecordFailures.increment()
        logger.warning("\(reason): delivered without a position", metadata: error.map { ["error": "\($0)"] } ?? [:])
    }

    /// Sends the event's record to the shared history (once for all nodes); returns the event with the
    /// id every node gives it, and its position to come; none when it is not to be recorded.
    private func record(
        _ event: BroadcastEvent,
        channel: String,
        payload: ByteBuffer,
        receivedAt: ContinuousClock.Instant
    ) -> (BroadcastEvent, EventLoopFuture<StreamPosition>?) {
        let eventId = RedisHistoryStore.eventId(channel: channel, payload: payload)
        var event = event
        if event.correlationId == nil { event.correlationId = RedisHistoryStore.correlationId(forEventId: eventId) }
        // History off (--history-size 0): no Redis round trip, no position.
        guard store.isRecording else { return (event, nil) }
        // An event this node took too long to reach may be past the dedupe window: recording it could
        // number it twice, so it goes out without a position.
        guard receivedAt.duration(to: .now) < RedisHistoryStore.dedupeWindow / 2 else {
            notRecorded("An event waited too long on this node to be recorded")
            return (event, nil)
        }
        do {
            return (event, try store.record(event, eventId: eventId, timestamp: FrameEncoder.timestamp()))
        } catch {
            notRecorded("Cannot record an event in the history", error: error)
            return (event, nil)
        }
    }

    private func invalid(channel: String, reason: String) {
        metrics.redisInvalidEvents.increment()
        logger.warning("Dropped an invalid Redis event", metadata: ["channel": "\(channel)", "reason": "\(reason)"])
    }

    /// Pings the subscribed connection and closes it when Redis stops answering.
    private func watch(_ connection: RedisConnection, watchdog: ListenerWatchdog) async throws {
        let started = ContinuousClock.now
        while true {
            try await Task.sleep(for: min(settings.pingInterval, settings.timeout))
            let now = ContinuousClock.now
            if !watchdog.wasSubscribed, started.duration(to: now) >= settings.timeout {
                connection.close()
                throw RedisConnection.ConnectionError.timedOut("subscribe confirmations")
            }
            guard watchdog.wasSubscribed else { continue }
            if watchdog.pingOverdue(now: now, timeout: settings.timeout, lastReadAt: connection.lastReadAt) {
                connection.close()
                throw RedisConnection.ConnectionError.timedOut("PING")
            }
            if watchdog.shouldPing(now: now, interval: settings.pingInterval) {
                try await connection.sendWithoutReply([["PING"]])
            }
        }
    }

    private func setConnected(_ connected: Bool) {
        status.withLock { $0.connected = connected }
        metrics.redisConnected.set(connected ? 1.0 : 0.0)
    }

    private func record(error: any Error) {
        let text = "\(error)"
        status.withLock {
            $0.connected = false
            $0.lastError = text
        }
        metrics.redisConnected.set(0.0)
        logger.warning("Redis listener lost its connection", metadata: ["error": "\(text)"])
    }
}

/// The listener connection's liveness: subscribe confirmations and ping answers.
final class ListenerWatchdog: Sendable {
    private struct State {
        var subscribed = false
        var pingSentAt: ContinuousClock.Instant?
        var lastPingAt: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    var wasSubscribed: Bool { state.withLock { $0.subscribed } }

    /// The confirmations just proved the connection alive: the first ping comes an interval later.
    func subscribed(now: ContinuousClock.Instant = .now) {
        state.withLock {
            $0.subscribed = true
            $0.lastPingAt = now
        }
    }
    func ponged() { state.withLock { $0.pingSentAt = nil } }

    /// Whether the outstanding ping is past its deadline with nothing at all read since it was sent.
    func pingOverdue(now: ContinuousClock.Instant, timeout: Duration, lastReadAt: ContinuousClock.Instant) -> Bool {
        state.withLock { state in
            guard let sent = state.pingSentAt else { return false }
            if lastReadAt > sent {
                // Something arrived after the ping: the connection is alive, whatever the consumer's backlog.
                state.pingSentAt = nil
                return false
            }
            return sent.duration(to: now) >= timeout
        }
    }

    /// Whether a ping is due; records it as sent.
    func shouldPing(now: ContinuousClock.Instant, interval: Duration) -> Bool {
        state.withLock { state in
            guard state.pingSentAt == nil else { return false }
            if let last = state.lastPingAt, last.duration(to: now) < interval { return false }
            state.pingSentAt = now
            state.lastPingAt = now
            return true
        }
    }
}

/// The listener's events in the order it read them: each is numbered as it is read, and delivered
/// once every event before it is, whatever order their records' answers are handled in.
final class ReadOrder: Sendable {
    private struct State {
        var taken = 0
        var next = 0
        var ready: [Int: (RedisEventBus.Relayed, StreamPosition?)] = [:]
    }

    private let state = Mutex(State())

    /// The next event's number.
    func take() -> Int {
        state.withLock { state in
            defer { state.taken += 1 }
            return state.taken
        }
    }

    /// Event `sequence` can go, at `position`: returns the events that can go now, in order.
    func ready(_ sequence: Int, _ relayed: RedisEventBus.Relayed, at position: StreamPosition?) -> [(RedisEventBus.Relayed, StreamPosition?)] {
        state.withLock { state in
            state.ready[sequence] = (relayed, position)
            var run: [(RedisEventBus.Relayed, StreamPosition?)] = []
            while let next = state.ready.removeValue(forKey: state.next) {
                run.append(next)
                state.next += 1
            }
            return run
        }
    }
}
