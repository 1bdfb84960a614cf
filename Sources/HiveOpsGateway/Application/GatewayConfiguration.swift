import GeneratedMessages
package import Logging
import RedisClient

/// Every setting of the gateway, grouped as the gateway's parts use them, each with its HiveOps
/// default in one place: its property's initial value here.
package struct GatewayConfiguration: Sendable {
    package enum LogFormat: String, Sendable, CaseIterable {
        case text
        case json
    }

    /// The per-connection token bucket for inbound messages.
    package struct RateLimit: Sendable {
        package var tokensPerSecond: Double = 20
        package var burst = 40
        /// Between two `Rate limit exceeded` notices to one client.
        package var cooldown: Duration = .seconds(5)
        /// A flood longer than this disconnects the client (1008); nil never does.
        package var abuseWindow: Duration? = .seconds(30)

        package init() {}
    }

    /// Sizes and counts a client may not exceed.
    package struct Limits: Sendable {
        /// Text messages above this get an error and are dropped.
        package var maxMessageBytes = 65_536
        /// Frames above this hard ceiling close the connection with 1009.
        package var maxFrameBytes = 1_048_576
        package var maxSubscriptions = 10
        /// Open WebSocket connections at most; more are refused before the upgrade. nil: the
        /// open-file limit less 256, so that the process never runs out of descriptors (libdispatch
        /// on Linux aborts the process when it cannot open its /proc files); `connectionCap` resolves it.
        package var maxConnections: Int?

        package init() {}
    }

    /// Each connection's outbound queue and what counts as a slow consumer.
    package struct Outbound: Sendable {
        package var queueBytes = 4_194_304
        package var queueFrames = 10_000
        /// Consecutive send failures before a disconnect (1013).
        package var backpressureThreshold = 5
        /// A write stalled this long is a send failure.
        package var writeDeadline: Duration = .seconds(5)

        package init() {}
    }

    /// permessage-deflate (RFC 7692), offered by every browser: compressed once per broadcast.
    package struct Compression: Sendable {
        /// Whether an offer is accepted; off, every connection runs uncompressed.
        package var enabled = true
        /// Messages below this many bytes go uncompressed: measured, deflate makes smaller ones no
        /// smaller (docs/BENCHMARKS.md).
        package var thresholdBytes = 256

        package init() {}
    }

    package struct Timeouts: Sendable {
        /// No inbound message for this long closes a connection.
        package var idle: Duration = .seconds(600)
        /// How long a closing peer has to answer the close frame before the socket is closed outright.
        package var closeGrace: Duration = .seconds(2)
        /// A new connection must send its first request within this, or it is closed.
        package var handshake: Duration = .seconds(10)
        /// A keep-alive HTTP connection with no request for this long is closed.
        package var httpIdle: Duration = .seconds(60)
        /// A WebSocket connection is pinged this often; one that sends nothing by the next ping is
        /// closed as dead (Hummingbird's auto-ping rule).
        package var ping: Duration = .seconds(30)
        /// How often the time-based rules are applied.
        package var sweepInterval: Duration = .milliseconds(250)

        package init() {}
    }

    package var host = "127.0.0.1"
    package var port = 8000
    /// The Redis broker's settings; nil runs the in-process broker.
    package var redis: RedisEventBus.Settings?
    package var rateLimit = RateLimit()
    package var limits = Limits()
    package var outbound = Outbound()
    package var compression = Compression()
    /// The event history that reconnecting clients recover from.
    package var history = HistorySettings()
    package var timeouts = Timeouts()
    /// Credentials, Origin allowlist and topic roles; off by default.
    package var access = AccessSettings()
    /// Serves a plain echo WebSocket at `/` with the production WebSocket configuration, for
    /// conformance suites (Autobahn). Off by default; never enable it in production.
    package var echoEndpoint = false
    package var contractVersion = MessageContract.version
    package var supportedVersions = ["1.0.0", "1.1.0", MessageContract.version]
    package var logLevel: Logger.Level = .info
    package var logFormat = LogFormat.text

    package init() {}

    /// A configuration listening on `port` (0 picks a free one), the rest by default.
    package init(port: Int) {
        self.port = port
    }
}
