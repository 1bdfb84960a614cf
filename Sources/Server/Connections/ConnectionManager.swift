public import Foundation
public import GeneratedMessages
public import Logging
import Prometheus
import Synchronization

/// Knows every open connection and who listens to which topic, and fans
/// broadcasts out: serialized once by the caller, enqueued for each recipient,
/// never waiting on a socket.
public final class ConnectionManager: Sendable {
    public struct Stats: Sendable {
        public var connections: Int
        public var subscribers: [Subscription: Int]
        public var oldest: (id: String, openedAt: Date)?
    }

    private struct State {
        var connections: [String: Connection] = [:]
        var topics: [Subscription: [ObjectIdentifier: Connection]] = [:]
        /// Recipients per topic as an array, rebuilt after a change, so a broadcast takes it in O(1).
        var recipients: [Subscription: [Connection]] = [:]
    }

    private let state = Mutex(State())
    private let metrics: GatewayMetrics
    private let logger: Logger

    public init(metrics: GatewayMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    /// Adds a connection; an open connection with the same id is returned so the caller can replace it.
    public func register(_ connection: Connection) -> Connection? {
        let (replaced, counts, open) = state.withLock { state -> (Connection?, [Subscription: Int], Int) in
            let previous = state.connections[connection.id]
            if let previous { Self.remove(previous, from: &state) }
            state.connections[connection.id] = connection
            for subscription in connection.subscriptions {
                state.topics[subscription, default: [:]][ObjectIdentifier(connection)] = connection
                state.recipients[subscription] = nil
            }
            return (previous, Self.counts(state), state.connections.count)
        }
        metrics.connections.set(Double(open))
        publish(counts)
        return replaced
    }

    /// Removes a connection if it is still the one registered under its id.
    public func unregister(_ connection: Connection) {
        let update = state.withLock { state -> (counts: [Subscription: Int], open: Int)? in
            guard state.connections[connection.id] === connection else { return nil }
            state.connections[connection.id] = nil
            Self.remove(connection, from: &state)
            return (Self.counts(state), state.connections.count)
        }
        guard let update else { return }
        metrics.connections.set(Double(update.open))
        publish(update.counts)
    }

    public func updateSubscriptions(of connection: Connection, to subscriptions: Set<Subscription>) {
        let counts = state.withLock { state -> [Subscription: Int]? in
            let previous = connection.subscriptions
            connection.setSubscriptions(subscriptions)
            guard state.connections[connection.id] === connection else { return nil }
            let key = ObjectIdentifier(connection)
            for removed in previous.subtracting(subscriptions) {
                state.topics[removed]?[key] = nil
                state.recipients[removed] = nil
            }
            for added in subscriptions.subtracting(previous) {
                state.topics[added, default: [:]][key] = connection
                state.recipients[added] = nil
            }
            return Self.counts(state)
        }
        if let counts { publish(counts) }
    }

    /// Enqueues one serialized frame for every subscriber of `topic`; returns how many took it.
    @discardableResult
    /// How many connections are subscribed to `topic` now.
    public func subscriberCount(of topic: Subscription) -> Int {
        state.withLock { $0.topics[topic]?.count ?? 0 }
    }

    public func broadcast(_ frame: OutboundFrame, to topic: Subscription) -> Int {
        let started = ContinuousClock.now
        let recipients = state.withLock { state -> [Connection] in
            if let cached = state.recipients[topic] { return cached }
            let built = Array((state.topics[topic] ?? [:]).values)
            state.recipients[topic] = built
            return built
        }
        var delivered = 0
        var flushes = FlushBatch()
        for connection in recipients {
            switch connection.enqueue(frame, now: started, flushes: &flushes) {
            case .enqueued:
                delivered += 1
            case .failed(let failures, let closing):
                recordSendFailure(frame, connection: connection, failures: failures, closing: closing)
            case .notOpen:
                break
            }
        }
        flushes.submit()
        metrics.lastBroadcastFanout.set(Double(delivered))
        metrics.broadcastDuration.record(started.duration(to: .now))
        return delivered
    }

    /// Counts and logs a frame that did not fit a connection's queue.
    public func recordSendFailure(_ frame: OutboundFrame, connection: Connection, failures: Int, closing: Bool) {
        metrics.sendFailures.increment()
        connection.logger.warning(
            "Send failed: outbound queue full",
            metadata: [
                "correlation_id": "\(frame.correlationId)",
                "type": "\(frame.type)",
                "subscription": "\(frame.subscription ?? "")",
                "consecutive_failures": "\(failures)",
            ]
        )
        if closing { metrics.backpressureDisconnects.increment() }
    }

    public func connection(id: String) -> Connection? {
        state.withLock { $0.connections[id] }
    }

    public var allConnections: [Connection] {
        state.withLock { Array($0.connections.values) }
    }

    public var count: Int {
        state.withLock { $0.connections.count }
    }

    public func stats() -> Stats {
        state.withLock { state in
            let oldest = state.connections.values.min { $0.openedAt < $1.openedAt }
            return Stats(
                connections: state.connections.count,
                subscribers: Self.counts(state),
                oldest: oldest.map { ($0.id, $0.openedAt) }
            )
        }
    }

    private static func remove(_ connection: Connection, from state: inout State) {
        let key = ObjectIdentifier(connection)
        for subscription in connection.subscriptions {
            state.topics[subscription]?[key] = nil
            state.recipients[subscription] = nil
        }
    }

    private static func counts(_ state: State) -> [Subscription: Int] {
        var counts: [Subscription: Int] = [:]
        for subscription in Subscription.allCases { counts[subscription] = state.topics[subscription]?.count ?? 0 }
        return counts
    }

    private func publish(_ counts: [Subscription: Int]) {
        for (subscription, count) in counts { metrics.setSubscribers(count, for: subscription) }
    }
}
