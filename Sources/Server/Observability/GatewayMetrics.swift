public import GeneratedMessages
public import Prometheus

/// Every metric the gateway exports, registered with help text so that the
/// Prometheus output has `# HELP` and `# TYPE` for each family. Each value is
/// measured where the event happens; none is computed for display.
public final class GatewayMetrics: Sendable {
    public static let webSocketPrefix = "hiveops_ws_"

    public let registry: PrometheusCollectorRegistry

    public let messagesSent: Counter
    public let sendFailures: Counter
    public let messagesReceived: Counter
    public let droppedByRateLimit: Counter
    public let errorsSent: Counter
    public let connectionsOpened: Counter
    public let disconnections: Counter
    public let backpressureDisconnects: Counter
    public let idleDisconnects: Counter
    public let abuseDisconnects: Counter
    public let tokenExpiredDisconnects: Counter
    public let connectionsRefused: Counter
    public let authDenied: Counter
    public let originDenied: Counter
    public let bytesSent: Counter
    public let bytesReceived: Counter
    public let connections: Gauge
    public let lastBroadcastFanout: Gauge
    public let broadcastDuration: DurationHistogram
    private let subscribers: [Subscription: Gauge]

    public let redisConnected: Gauge
    public let redisReconnects: Counter
    public let redisMessagesReceived: Counter
    public let redisInvalidEvents: Counter

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(name: Self.webSocketPrefix + name, help: help)
        }
        messagesSent = counter("messages_sent_total", "Frames handed to client sockets.")
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
        connections = registry.makeGauge(name: Self.webSocketPrefix + "connections", help: "Open WebSocket connections.")
        lastBroadcastFanout = registry.makeGauge(
            name: Self.webSocketPrefix + "last_broadcast_fanout",
            help: "Recipients of the most recent broadcast."
        )
        broadcastDuration = registry.makeDurationHistogram(
            name: Self.webSocketPrefix + "broadcast_fanout_duration_seconds",
            buckets: [.microseconds(10), .microseconds(100), .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .seconds(1)],
            help: "Time to serialize a broadcast and enqueue it for every recipient."
        )
        var subscribers: [Subscription: Gauge] = [:]
        for subscription in Subscription.allCases {
            subscribers[subscription] = registry.makeGauge(
                name: Self.webSocketPrefix + "subscribers",
                labels: [("subscription", subscription.rawValue)],
                help: "Connections subscribed to each topic."
            )
        }
        self.subscribers = subscribers
        redisConnected = registry.makeGauge(name: "hiveops_redis_connected", help: "1 while the Redis listener is subscribed, else 0.")
        redisReconnects = registry.makeCounter(name: "hiveops_redis_reconnects_total", help: "Redis listener reconnect attempts.")
        redisMessagesReceived = registry.makeCounter(name: "hiveops_redis_messages_received_total", help: "Pub/sub messages received from Redis.")
        redisInvalidEvents = registry.makeCounter(
            name: "hiveops_redis_invalid_events_total",
            help: "Published payloads dropped as invalid (not JSON, not an object, unknown topic or type)."
        )
    }

    public func setSubscribers(_ count: Int, for subscription: Subscription) {
        subscribers[subscription]?.set(Double(count))
    }
}
