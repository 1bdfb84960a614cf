public import GeneratedMessages
import Glibc
public import Logging

/// Every setting of the gateway, with the HiveOps defaults.
public struct GatewayConfiguration: Sendable {
    /// The connection cap in force: `maxConnections`, else the open-file limit less 256.
    public var effectiveMaxConnections: Int {
        if let maxConnections { return maxConnections }
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return max(16, Int(clamping: limit.rlim_cur) - 256)
    }

    public enum LogFormat: String, Sendable, CaseIterable {
        case text
        case json
    }

    public var host: String
    public var port: Int
    /// `redis://[user:password@]host:port[/db]`; nil runs the in-process broker.
    public var redisURL: String?
    /// The Redis listener's reconnect backoff: first ceiling and cap (full jitter below them).
    public var redisBackoffInitial: Duration = .milliseconds(500)
    public var redisBackoffCap: Duration = .seconds(30)
    /// How often the subscribed Redis connection is pinged.
    public var redisPingInterval: Duration = .seconds(5)
    /// Connect, reply, subscribe and ping deadline for Redis.
    public var redisTimeout: Duration = .seconds(3)

    public var rateLimitTokensPerSecond: Double
    public var rateLimitBurst: Int
    public var rateLimitCooldown: Duration
    /// A flood longer than this disconnects the client (1008); nil never does.
    public var rateLimitAbuseWindow: Duration?

    /// Text messages above this get an error and are dropped.
    public var maxMessageBytes: Int
    /// Frames above this hard ceiling close the connection with 1009.
    public var maxFrameBytes: Int
    public var maxSubscriptions: Int
    /// Open WebSocket connections at most; more are refused before the upgrade.
    /// nil: the open-file limit less 256, so that the process never runs out of descriptors
    /// (libdispatch on Linux aborts the process when it cannot open its /proc files).
    public var maxConnections: Int?

    public var backpressureThreshold: Int
    public var outboundQueueMaxBytes: Int
    public var outboundQueueMaxFrames: Int
    public var writeDeadline: Duration

    public var idleTimeout: Duration
    /// How long a closing peer has to answer the close frame before the socket is closed outright.
    public var closeGrace: Duration
    /// A new connection must send its first request within this, or it is closed.
    public var handshakeTimeout: Duration = .seconds(10)
    /// A keep-alive HTTP connection with no request for this long is closed.
    public var httpIdleTimeout: Duration = .seconds(60)
    /// A WebSocket connection is pinged this often; one that sends nothing by the next ping is
    /// closed as dead (Hummingbird's auto-ping rule).
    public var pingInterval: Duration = .seconds(30)
    /// How often idle timeouts, write deadlines and close grace are checked.
    public var sweepInterval: Duration

    public var contractVersion: String
    public var supportedVersions: [String]

    /// Credentials, Origin allowlist and topic roles; off by default.
    public var access: AccessSettings
    /// Serves a plain echo WebSocket at `/` with the production WebSocket configuration, for
    /// conformance suites (Autobahn). Off by default; never enable it in production.
    public var echoEndpoint: Bool = false

    public var logLevel: Logger.Level
    public var logFormat: LogFormat

    public init(
        host: String = "127.0.0.1",
        port: Int = 8000,
        redisURL: String? = nil,
        rateLimitTokensPerSecond: Double = 20,
        rateLimitBurst: Int = 40,
        rateLimitCooldown: Duration = .seconds(5),
        rateLimitAbuseWindow: Duration? = .seconds(30),
        maxMessageBytes: Int = 65_536,
        maxFrameBytes: Int = 1_048_576,
        maxSubscriptions: Int = 10,
        maxConnections: Int? = nil,
        backpressureThreshold: Int = 5,
        outboundQueueMaxBytes: Int = 4_194_304,
        outboundQueueMaxFrames: Int = 10_000,
        writeDeadline: Duration = .seconds(5),
        idleTimeout: Duration = .seconds(600),
        closeGrace: Duration = .seconds(2),
        sweepInterval: Duration = .milliseconds(250),
        contractVersion: String = MessageContract.version,
        supportedVersions: [String] = ["1.0.0", MessageContract.version],
        access: AccessSettings = AccessSettings(),
        logLevel: Logger.Level = .info,
        logFormat: LogFormat = .text
    ) {
        self.host = host
        self.port = port
        self.redisURL = redisURL
        self.rateLimitTokensPerSecond = rateLimitTokensPerSecond
        self.rateLimitBurst = rateLimitBurst
        self.rateLimitCooldown = rateLimitCooldown
        self.rateLimitAbuseWindow = rateLimitAbuseWindow
        self.maxMessageBytes = maxMessageBytes
        self.maxFrameBytes = maxFrameBytes
        self.maxSubscriptions = maxSubscriptions
        self.maxConnections = maxConnections
        self.backpressureThreshold = backpressureThreshold
        self.outboundQueueMaxBytes = outboundQueueMaxBytes
        self.outboundQueueMaxFrames = outboundQueueMaxFrames
        self.writeDeadline = writeDeadline
        self.idleTimeout = idleTimeout
        self.closeGrace = closeGrace
        self.sweepInterval = sweepInterval
        self.contractVersion = contractVersion
        self.supportedVersions = supportedVersions
        self.access = access
        self.logLevel = logLevel
        self.logFormat = logFormat
    }
}
