package import GeneratedMessages
package import Prometheus

/// Every metric the gateway exports, registered with help text so that the
/// Prometheus output has `# HELP` and `# TYPE` for each family. Each value is
/// measured where the event happens; none is computed for display.
package final class GatewayMetrics: Sendable {
    package static let webSocketPrefix = "hiveops_ws_"

    package let registry: PrometheusCollectorRegistry

    package let messagesSent: Counter
    /// Frames written straight to a socket that took only part of them (a slow reader's full buffer).
    package let directWriteRemainders: Counter
    package let sendFailures: Counter
    package let messagesReceived: Counter
    package let droppedByRateLimit: Counter
    package let errorsSent: Counter
    package let connectionsOpened: Counter
    package let disconnections: Counter
    package let backpressureDisconnects: Counter
    package let idleDisconnects: Counter
    package let abuseDisconnects: Counter
    package let tokenExpiredDisconnects: Counter
    package let connectionsRefused: Counter
    package let authDenied: Counter
    package let originDenied: Counter
    package let bytesSent: Counter
    package let bytesReceived: Counter
    package let compressedConnections: Counter
    package let deflateOperations: Counter
    package let compressionBytesBefore: Counter
    package let compressionBytesAfter: Counter
    package let connections: Gauge
    package let lastBroadcastFanout: Gauge
    package let broadcastDuration: DurationHistogram
    package let broadcastFanout: DurationHistogram
    package let broadcastStages: BroadcastStages
    private let subscribers: [Subscription: Gauge]

    package let recoveryRequests: Counter
    package let recoveries: Counter
    package let replayedEvents: Counter
    private let failedRecoveries: [RecoveryFailure: Counter]
    package let history: HistoryGauges
    package let redisHistory: HistoryGauges
    package let historyRecordFailures: Counter

    package let redisConnected: Gauge
    package let redisReconnects: Counter
    package let redisMessagesReceived: Counter
    package let redisInvalidEvents: Counter

    package init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        // The full name as `metricName`: these names predate the descriptor's parts.
        func named(_ name: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
        }
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: named(Self.webSocketPrefix + name, help))
        }
        messagesSent = counter("messages_sent_total", "Frames handed to client sockets.")
        directWriteRemainders = counter(
            "direct_write_remainders_total",
            "Frames written straight to a socket that took only part of them; the rest was queued in the channel."
        )
        sendFailures = counter(
            "messages_send_failures_total",
            "Frames that did not fit a connection's outbound queue, and writes past their deadline."
        )
        messagesReceived = counter("messages_received_total", "Messages received from clients.")
        droppedByRateLimit = counter("messages_dropped_rate_limit_total", "Inbound messages dropped by the per-connection rate limit.")
        errorsSent = counter("errors_sent_total", "Error frames sent to clients.")
        connectionsOpened = counter("connections_total", "WebSocket connections accepted.")
        disconnections = counter("disconnections_total", "WebSocket connections ended, for any reason.")
        backpressureDisconnects = counter("backpressure_disconnects_total", "Connections closed because they did not keep up.")
        idleDisconnects = counter("idle_disconnects_total", "Connections closed after the idle timeout.")
        abuseDisconnects = counter("rate_limit_disconnects_total", "Connections closed for flooding past the abuse window.")
        tokenExpiredDisconnects = counter("token_expired_disconnects_total", "Connections closed when their token expired (4401).")
        connectionsRefused = counter("connections_refused_total", "Upgrades refused because the connection cap was reached.")
        authDenied = counter(
            "auth_denied_total",
            "Requests refused for a missing or invalid credential (401), a forbidden topic or a missing admin role (403)."
        )
        originDenied = counter("origin_denied_total", "Upgrades refused for a disallowed Origin (403).")
        bytesSent = counter("bytes_sent_total", "Payload bytes of frames handed to client sockets.")
        bytesReceived = counter("bytes_received_total", "Payload bytes of messages received from clients.")
        compressedConnections = counter("compression_negotiated_total", "WebSocket connections that negotiated permessage-deflate.")
        deflateOperations = counter(
            "deflate_operations_total",
            "Messages deflated: once per broadcast (per deflate window), not once per recipient."
        )
        compressionBytesBefore = counter(
            "compression_bytes_before_total",
            "Frame bytes sent to permessage-deflate connections, as they would have been uncompressed."
        )
        compressionBytesAfter = counter(
            "compression_bytes_after_total",
            "Frame bytes sent to permessage-deflate connections, as sent (the ratio to the total before is the saving)."
        )
        connections = registry.makeGauge(descriptor: named(Self.webSocketPrefix + "connections", "Open WebSocket connections."))
        lastBroadcastFanout = registry.makeGauge(
            descriptor: named(Self.webSocketPrefix + "last_broadcast_fanout", "Recipients of the most recent broadcast.")
        )
        broadcastDuration = registry.makeDurationHistogram(
            descriptor: named(
                Self.webSocketPrefix + "broadcast_fanout_duration_seconds",
                "Time to serialize a broadcast and hand it to the event loops of its recipients."
            ),
            buckets: [.microseconds(10), .microseconds(100), .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .seconds(1)]
        )
        // What a dashboard waits for: from the event's arrival at this node to the last recipient's write.
        let latencyBuckets: [Duration] = [
            .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        broadcastFanout = registry.makeDurationHistogram(
            descriptor: named(
                Self.webSocketPrefix + "broadcast_fanout_seconds",
                "From a broadcast event's arrival at this node (read from Redis, or received over HTTP) until every event loop has written it to its recipients."
            ),
            buckets: latencyBuckets
        )
        broadcastStages = BroadcastStages(registry: registry, buckets: latencyBuckets)
        var subscribers: [Subscription: Gauge] = [:]
        for subscription in Subscription.allCases {
            subscribers[subscription] = registry.makeGauge(
                descriptor: named(Self.webSocketPrefix + "subscribers", "Connections subscribed to each topic."),
                labels: [("subscription", subscription.rawValue)]
            )
        }
        self.subscribers = subscribers
        recoveryRequests = counter("recovery_requests_total", "Topics whose missed events a client asked to recover.")
        recoveries = counter("recoveries_total", "Topics recovered: every missed event replayed.")
        replayedEvents = counter("recovery_replayed_events_total", "Events replayed to recovering clients.")
        var failedRecoveries: [RecoveryFailure: Counter] = [:]
        for reason in RecoveryFailure.allCases {
            failedRecoveries[reason] = registry.makeCounter(
                descriptor: named(
                    Self.webSocketPrefix + "recovery_failures_total",
                    "Topics not recovered, by reason: the client refetches a snapshot."
                ),
                labels: [("reason", reason.rawValue)]
            )
        }
        self.failedRecoveries = failedRecoveries
        history = HistoryGauges(registry: registry, prefix: Self.webSocketPrefix + "history", where: "in this node's memory")
        redisHistory = HistoryGauges(
            registry: registry,
            prefix: "hiveops_redis_history",
            where: "in Redis, shared by every node (read at each scrape)"
        )
        historyRecordFailures = registry.makeCounter(
            descriptor: named(
                "hiveops_redis_history_record_failures_total",
                "Events delivered without a position: Redis did not record them in time."
            )
        )
        redisConnected = registry.makeGauge(descriptor: named("hiveops_redis_connected", "1 while the Redis listener is subscribed, else 0."))
        redisReconnects = registry.makeCounter(descriptor: named("hiveops_redis_reconnects_total", "Redis listener reconnect attempts."))
        redisMessagesReceived = registry.makeCounter(
            descriptor: named("hiveops_redis_messages_received_total", "Pub/sub messages received from Redis.")
        )
        redisInvalidEvents = registry.makeCounter(
            descriptor: named(
                "hiveops_redis_invalid_events_total",
                "Published payloads dropped as invalid (not JSON, not an object, unknown topic or type)."
            )
        )
    }

    /// The counter of topics not recovered for `reason`.
    package func recoveryFailures(_ reason: RecoveryFailure) -> Counter {
        failedRecoveries[reason] ?? recoveryRequests
    }

    package func setSubscribers(_ count: Int, for subscription: Subscription) {
        subscribers[subscription]?.set(Double(count))
    }
}

/// Where a broadcast's time goes, stage by stage, from its arrival at this node to its last write:
/// `hiveops_ws_broadcast_stage_seconds{stage=...}`. Their sum is `hiveops_ws_broadcast_fanout_seconds`.
package struct BroadcastStages: Sendable {
    /// Arrival to being taken up: the queueing delay (Redis: from the event loop that read it to the
    /// task that decodes it).
    package let wait: DurationHistogram
    /// Decoding the payload and validating it against the contract.
    package let translate: DurationHistogram
    /// Building and serializing the one frame all recipients share.
    package let serialize: DurationHistogram
    /// Finding its recipients and handing it to each of their event loops (``LoopFanOut``).
    package let enqueue: DurationHistogram
    /// From the hand-over until the last event loop has written it to its recipients' sockets (or
    /// queued it for those whose sockets are busy).
    package let flush: DurationHistogram

    init(registry: PrometheusCollectorRegistry, buckets: [Duration]) {
        func stage(_ name: String) -> DurationHistogram {
            registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    metricName: GatewayMetrics.webSocketPrefix + "broadcast_stage_seconds",
                    unitName: "",
                    helpText:
                        "Time a broadcast spends in each stage on this node: wait (its queueing delay), translate, serialize, enqueue, flush."
                ),
                labels: [("stage", name)],
                buckets: buckets
            )
        }
        wait = stage("wait")
        translate = stage("translate")
        serialize = stage("serialize")
        enqueue = stage("enqueue")
        flush = stage("flush")
    }
}

/// A history's size per topic: `<prefix>_events{topic}` and `<prefix>_bytes{topic}`.
package struct HistoryGauges: Sendable {
    private let events: [Subscription: Gauge]
    private let bytes: [Subscription: Gauge]

    init(registry: PrometheusCollectorRegistry, prefix: String, where place: String) {
        var events: [Subscription: Gauge] = [:]
        var bytes: [Subscription: Gauge] = [:]
        for topic in Subscription.allCases {
            events[topic] = registry.makeGauge(
                descriptor: MetricNameDescriptor(metricName: prefix + "_events", unitName: "", helpText: "Events kept per topic \(place)."),
                labels: [("topic", topic.rawValue)]
            )
            bytes[topic] = registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    metricName: prefix + "_bytes",
                    unitName: "",
                    helpText: "Bytes of the events kept per topic \(place)."
                ),
                labels: [("topic", topic.rawValue)]
            )
        }
        self.events = events
        self.bytes = bytes
    }

    package func set(_ usage: [Subscription: (events: Int, bytes: Int)]) {
        for (topic, usage) in usage {
            events[topic]?.set(Double(usage.events))
            bytes[topic]?.set(Double(usage.bytes))
        }
    }
}
