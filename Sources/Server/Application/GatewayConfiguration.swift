public import GeneratedMessages
public import Logging
public import RedisClient

/// Every setting of the gateway, grouped as the gateway's parts use them, each with its HiveOps
/// default in one place: its property's initial value here.
public struct GatewayConfiguration: Sendable {
    public enum LogFormat: String, Sendable, CaseIterable {
        case text
        case json
    }

    /// The per-connection token bucket for inbound messages.
    public struct RateLimit: Sendable {
        public var tokensPerSecond: Double = 20
        public var burst = 40
        /// Between two `Rate limit exceeded` notices to one client.
        public var cooldown: Duration = .seconds(5)
        /// A flood longer than this disconnects the client (1008); nil never does.
        public var abuseWindow: Duration? = .seconds(30)

        public init() {}
    }

    /// Sizes and counts a client may not exceed.
    public struct Limits: Sendable {
        /// Text messages above this get an error and are dropped.
        public var maxMessageBytes = 65_536
        /// Frames above this hard ceiling close the connection with 1009.
        public var maxFrameBytes = 1_048_576
        public var maxSubscriptions = 10
        /// Open WebSocket connections at most; more are refused before the upgrade. nil: the
        /// open-file limit less 256, so that the process never runs out of descriptors (libdispatch
        /// on Linux aborts the process when it cannot open its /proc files); `connectionCap` resolves it.
        public var maxConnections: Int?

        public init() {}
    }

    /// Each connection's outbound queue and what counts as a slow consumer.
    public struct Outbound: Sendable {
        public var queueBytes = 4_194_304
        public var queueFrames = 10_000
        /// Consecutive send failures before a disconnect (1013).
        public var backpressureThreshold = 5
        /// A write stalled this long is a send failure.
        public var writeDeadline: Duration = .seconds(5)

        public init() {}
    }

    public struct Timeouts: Sendable {
        /// No inbound message for this long closes a connection.
        public var idle: Duration = .seconds(600)
        /// How long a closing peer has to answer the close frame before the socket is closed outright.
        public var closeGrace: Duration = .seconds(2)
        /// A new connection must send its first request within this, or it is closed.
        public var handshake: Duration = .seconds(10)
        /// A keep-alive HTTP connection with no request for this long is closed.
        public var httpIdle: Duration = .seconds(60)
        /// A WebSocket connection is pinged this often; one that sends nothing by the next ping is
        /// closed as dead (Hummingbird's auto-ping rule).
        public var ping: Duration = .seconds(30)
        /// How often the time-based rules are applied.
        public var sweepInterval: Duration = .milliseconds(250)

        public init() {}
    }

    public var host = "127.0.0.1"
    public var port = 8000
    /// The Redis broker's settings; nil runs the in-process broker.
    public var redis: RedisEventBus.Settings?
    public var rateLimit = RateLimit()
    public var limits = Limits()
    public var outbound = Outbound()
    public var timeouts = Timeouts()
    /// Credentials, Origin allowlist and topic roles; off by default.
    public var access = AccessSettings()
    /// Serves a plain echo WebSocket at `/` with the production WebSocket configuration, for
    /// conformance suites (Autobahn). Off by default; never enable it in production.
    public var echoEndpoint = false
    public var contractVersion = MessageContract.version
    public var supportedVersions = ["1.0.0", MessageContract.version]
    public var logLevel: Logger.Level = .info
    public var logFormat = LogFormat.text

    public init() {}

    /// A configuration listening on `port` (0 picks a free one), the rest by default.
    public init(port: Int) {
        self.port = port
    }
}
