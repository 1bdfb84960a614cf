package import Foundation
package import GeneratedMessages
package import Logging
import Prometheus
import Synchronization

/// Knows every open connection and who listens to which topic, and fans
/// broadcasts out: serialized once by the caller, handed to each event loop for the
/// recipients it serves (``LoopFanOut``), never waiting on a socket.
package final class ConnectionManager: Sendable {
    package struct Stats: Sendable {
        package var connections: Int
        package var subscribers: [Subscription: Int]
        package var oldest: (id: String, openedAt: Date)?
    }

    /// A registered connection and its topics: the index's copy of what its inbound processor owns.
    private struct Registered {
        var connection: Connection
        var topics: Set<Subscription>
    }

    /// A topic's recipients grouped by event loop, rebuilt after a change, so a broadcast takes it in O(1).
    private struct Recipients {
        var byLoop: [(fanOut: LoopFanOut, connections: [Connection])] = []
        /// Connections without an event loop (tests, micro-benchmarks): delivered in place.
        var inPlace: [Connection] = []
        var count = 0
    }

    private struct State {
        var connections: [String: Registered] = [:]
        var topics: [Subscription: [ObjectIdentifier: Connection]] = [:]
        var recipients: [Subscription: Recipients] = [:]
        /// Each event loop's fan-out, made when the first connection on it registers.
        var fanOuts: [ObjectIdentifier: LoopFanOut] = [:]
    }

    private let state = Mutex(State())
    private let metrics: GatewayMetrics
    private let logger: Logger

    package init(metrics: GatewayMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    /// Adds a connection with its topics; an open connection with the same id is returned so the
    /// caller can replace it.
    package func register(_ connection: Connection, topics: Set<Subscription>) -> Connection? {
        let (replaced, counts, open) = state.withLock { state -> (Connection?, [Subscription: Int], Int) in
            let previous = state.connections[connection.id]
            if let previous { Self.remove(previous, from: &state) }
            state.connections[connection.id] = Registered(connection: connection, topics: topics)
            if let loop = connection.eventLoop, state.fanOuts[ObjectIdentifier(loop)] == nil {
                state.fanOuts[ObjectIdentifier(loop)] = LoopFanOut(eventLoop: loop, metrics: metrics)
            }
            for topic in topics {
                state.topics[topic, default: [:]][ObjectIdentifier(connection)] = connection
                state.recipients[topic] = nil
            }
            return (previous?.connection, Self.counts(state), state.connections.count)
        }
        metrics.connections.set(Double(open))
        publish(counts)
        return replaced
    }

    /// Removes a connection if it is still the one registered under its id.
    package func unregister(_ connection: Connection) {
        let update = state.withLock { state -> (counts: [Subscription: Int], open: Int)? in
            guard let registered = state.connections[connection.id], registered.connection === connection else { return nil }
            state.connections[connection.id] = nil
            Self.remove(registered, from: &state)
            return (Self.counts(state), state.connections.count)
        }
        guard let update else { return }
        metrics.connections.set(Double(update.open))
        publish(update.counts)
    }

    /// The connection's topics changed (its inbound processor says so): the index follows.
    package func updateSubscriptions(of connection: Connection, to topics: Set<Subscription>) {
        let counts = state.withLock { state -> [Subscription: Int]? in
            guard let registered = state.connections[connection.id], registered.connection === connection else { return nil }
            let key = ObjectIdentifier(connection)
            for removed in registered.topics.subtracting(topics) {
                state.topics[removed]?[key] = nil
                state.recipients[removed] = nil
            }
            for added in topics.subtracting(registered.topics) {
                state.topics[added, default: [:]][key] = connection
                state.recipients[added] = nil
            }
            state.connections[connection.id]?.topics = topics
            return Self.counts(state)
        }
        if let counts { publish(counts) }
    }

    /// The topics the index holds for a connection; nil when it is not registered.
    package func topics(of connection: Connection) -> Set<Subscription>? {
        state.withLock { state in
            guard let registered = state.connections[connection.id], registered.connection === connection else { return nil }
            return registered.topics
        }
    }

    /// How many connections are subscribed to `topic` now.
    package func subscriberCount(of topic: Subscription) -> Int {
        state.withLock { $0.topics[topic]?.count ?? 0 }
    }

    /// When a broadcast's event reached this node, when it was taken up, and when its routing began.
    package struct BroadcastTiming: Sendable {
        /// Its bytes read (from Redis, on the connection's event loop) or its request received.
        package var arrivedAt: ContinuousClock.Instant
        /// Taken up by the code that decodes it: after `arrivedAt`, the event waited in a queue.
        package var dequeuedAt: ContinuousClock.Instant
        /// Decoded and validated: the frame's serialization begins.
        package var routingStartedAt: ContinuousClock.Instant

        package init(arrivedAt: ContinuousClock.Instant, dequeuedAt: ContinuousClock.Instant, routingStartedAt: ContinuousClock.Instant) {
            self.arrivedAt = arrivedAt
            self.dequeuedAt = dequeuedAt
            self.routingStartedAt = routingStartedAt
        }
    }

    /// Hands one serialized frame to every subscriber of `topic`: each event loop gets it once, with
    /// the recipients it serves, and delivers it to them (``LoopFanOut``); connections without a loop
    /// get it here. Returns how many recipients it was handed to. With `timing`, records the
    /// event's stages and, once every event loop has delivered it, the time from its arrival to the
    /// last write.
    @discardableResult
    package func broadcast(_ frame: OutboundFrame, to topic: Subscription, timing: BroadcastTiming? = nil) -> Int {
        let started = ContinuousClock.now
        let recipients = state.withLock { state -> Recipients in
            if let cached = state.recipients[topic] { return cached }
            let built = Self.group(Array((state.topics[topic] ?? [:]).values), fanOuts: state.fanOuts)
            state.recipients[topic] = built
            return built
        }
        let handing = ContinuousClock.now
        var done: Countdown?
        if let timing {
            let (flush, fanout) = (metrics.broadcastStages.flush, metrics.broadcastFanout)
            let whenDone: @Sendable () -> Void = {
                let finished = ContinuousClock.now
                flush.record(handing.duration(to: finished))
                fanout.record(timing.arrivedAt.duration(to: finished))
            }
            if recipients.byLoop.isEmpty { whenDone() } else { done = Countdown(recipients.byLoop.count, whenDone: whenDone) }
        }
        handOver(frame, recipients, done: done)
        if let timing {
            let stages = metrics.broadcastStages
            stages.wait.record(timing.arrivedAt.duration(to: timing.dequeuedAt))
            stages.translate.record(timing.dequeuedAt.duration(to: timing.routingStartedAt))
            stages.serialize.record(timing.routingStartedAt.duration(to: started))
            stages.enqueue.record(started.duration(to: .now))
        }
        metrics.lastBroadcastFanout.set(Double(recipients.count))
        metrics.broadcastDuration.record(started.duration(to: .now))
        return recipients.count
    }

    private func handOver(_ frame: OutboundFrame, _ recipients: Recipients, done: Countdown?) {
        for (fanOut, connections) in recipients.byLoop {
            fanOut.hand(LoopFanOut.Delivery(frame: frame, recipients: connections, done: done))
        }
        for connection in recipients.inPlace {
            if case .failed(let failures, let closing) = connection.enqueue(frame) {
                recordSendFailure(frame, connection: connection, failures: failures, closing: closing)
            }
        }
    }

    private static func group(_ connections: [Connection], fanOuts: [ObjectIdentifier: LoopFanOut]) -> Recipients {
        var recipients = Recipients(count: connections.count)
        var index: [ObjectIdentifier: Int] = [:]
        for connection in connections {
            guard let loop = connection.eventLoop, let fanOut = fanOuts[ObjectIdentifier(loop)] else {
                recipients.inPlace.append(connection)
                continue
            }
            if let position = index[ObjectIdentifier(loop)] {
                recipients.byLoop[position].connections.append(connection)
            } else {
                index[ObjectIdentifier(loop)] = recipients.byLoop.count
                recipients.byLoop.append((fanOut, [connection]))
            }
        }
        return recipients
    }

    /// Counts and logs a frame that did not fit a connection's queue.
    package func recordSendFailure(_ frame: OutboundFrame, connection: Connection, failures: Int, closing: Bool) {
        Self.recordSendFailure(frame, connection: connection, failures: failures, closing: closing, metrics: metrics)
    }

    static func recordSendFailure(_ frame: OutboundFrame, connection: Connection, failures: Int, closing: Bool, metrics: GatewayMetrics) {
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

    package func connection(id: String) -> Connection? {
        state.withLock { $0.connections[id]?.connection }
    }

    package var allConnections: [Connection] {
        state.withLock { $0.connections.values.map(\.connection) }
    }

    package var count: Int {
        state.withLock { $0.connections.count }
    }

    package func stats() -> Stats {
        state.withLock { state in
            let oldest = state.connections.values.map(\.connection).min { $0.openedAt < $1.openedAt }
            return Stats(
                connections: state.connections.count,
                subscribers: Self.counts(state),
                oldest: oldest.map { ($0.id, $0.openedAt) }
            )
        }
    }

    private static func remove(_ registered: Registered, from state: inout State) {
        let key = ObjectIdentifier(registered.connection)
        for subscription in registered.topics {
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
