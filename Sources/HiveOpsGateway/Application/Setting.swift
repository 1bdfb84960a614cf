import Foundation
import Logging
import RedisClient

/// One setting of the gateway as an operator sets it: its flag, its environment variable, what it
/// does and its default, read from ``GatewayConfiguration``'s own defaults. The one table that the
/// CLI's `--help`, its resolver's error messages and the README's settings tables come from
/// (`SettingsTableTests` checks the README and `--help` against it).
package struct Setting: Sendable, Equatable {
    package enum Group: String, Sendable {
        /// The README's "Running the gateway" table.
        case server
        /// The README's "Access control" table.
        case access
    }

    package let flag: String
    package let environment: String
    package let summary: String
    /// The default as an operator reads it; nil when there is none.
    package let defaultValue: String?
    package let group: Group

    /// How an error names the setting: `--port (PORT)`.
    package var name: String { "\(flag) (\(environment))" }

    /// The `--help` text: what it does, its environment variable and its default.
    package var help: String {
        "\(summary) (env: \(environment)\(defaultValue.map { ", default: \($0)" } ?? ""))"
    }

    /// Its row in the README's table.
    package var markdownRow: String {
        "| `\(flag)` | `\(environment)` | \(defaultValue ?? "none") | \(summary.replacingOccurrences(of: "|", with: "\\|")) |"
    }
}

extension Setting {
    private static let defaults = GatewayConfiguration()
    private static let redisDefaults = RedisEventBus.Settings(url: RedisURL(host: "localhost"))
    private static let accessDefaults = AccessSettings()

    private static func seconds(_ duration: Duration) -> String {
        let value = duration.seconds
        return (value == value.rounded() ? "\(Int(value))" : "\(value)") + " s"
    }

    private static func server(_ flag: String, _ environment: String, _ summary: String, _ defaultValue: String?) -> Setting {
        Setting(flag: flag, environment: environment, summary: summary, defaultValue: defaultValue, group: .server)
    }

    private static func access(_ flag: String, _ environment: String, _ summary: String, _ defaultValue: String?) -> Setting {
        Setting(flag: flag, environment: environment, summary: summary, defaultValue: defaultValue, group: .access)
    }

    package static let host = server("--host", "HIVEOPS_HOST", "Address to listen on.", defaults.host)
    package static let port = server("--port", "PORT", "Port to listen on; 0 picks a free one.", "\(defaults.port)")
    package static let redisURL = server(
        "--redis-url",
        "REDIS_URL",
        "redis://[user:password@]host:port[/db] for scale-out; none runs the in-process broker.",
        nil
    )
    package static let redisBackoffInitial = server(
        "--redis-backoff-initial",
        "REDIS_BACKOFF_INITIAL_SECONDS",
        "First Redis reconnect delay ceiling in seconds (full jitter, doubling).",
        seconds(redisDefaults.backoffInitial)
    )
    package static let redisBackoffCap = server(
        "--redis-backoff-cap",
        "REDIS_BACKOFF_CAP_SECONDS",
        "Largest Redis reconnect delay in seconds.",
        seconds(redisDefaults.backoffCap)
    )
    package static let rateLimitRps = server(
        "--rate-limit-rps",
        "WS_RATE_TOKENS_PER_SEC",
        "Inbound messages a second per connection.",
        "\(Int(defaults.rateLimit.tokensPerSecond))"
    )
    package static let rateLimitBurst = server("--rate-limit-burst", "WS_RATE_BURST", "Inbound burst per connection.", "\(defaults.rateLimit.burst)")
    package static let rateLimitCooldown = server(
        "--rate-limit-cooldown",
        "WS_RATE_NOTIFY_COOLDOWN_SECONDS",
        "Seconds between two rate-limit notices to one client.",
        seconds(defaults.rateLimit.cooldown)
    )
    package static let rateLimitAbuseWindow = server(
        "--rate-limit-abuse-window",
        "WS_RATE_ABUSE_WINDOW_SECONDS",
        "Seconds of continuous flooding before a client is disconnected (1008); 0 never.",
        defaults.rateLimit.abuseWindow.map(seconds) ?? "0 (never)"
    )
    package static let maxMessageBytes = server(
        "--max-message-bytes",
        "WS_MAX_MESSAGE_BYTES",
        "Largest inbound text message in bytes; larger ones get an error.",
        "\(defaults.limits.maxMessageBytes)"
    )
    package static let maxConnections = server(
        "--max-connections",
        "WS_MAX_CONNECTIONS",
        "Open WebSocket connections at most; more are refused before the upgrade (503).",
        "the open-file limit less 256 (the gateway raises its soft limit to the hard one at start)"
    )
    package static let backpressureThreshold = server(
        "--backpressure-threshold",
        "WS_BACKPRESSURE_THRESHOLD",
        "Consecutive send failures before a slow client is disconnected (1013).",
        "\(defaults.outbound.backpressureThreshold)"
    )
    package static let outboundQueueBytes = server(
        "--outbound-queue-bytes",
        "WS_OUTBOUND_QUEUE_BYTES",
        "Outbound queue bound per connection, in bytes.",
        "\(defaults.outbound.queueBytes)"
    )
    package static let outboundQueueFrames = server(
        "--outbound-queue-frames",
        "WS_OUTBOUND_QUEUE_FRAMES",
        "Outbound queue bound per connection, in frames.",
        "\(defaults.outbound.queueFrames)"
    )
    package static let writeDeadline = server(
        "--write-deadline",
        "WS_WRITE_DEADLINE_SECONDS",
        "Seconds a write may take before it counts as a send failure.",
        seconds(defaults.outbound.writeDeadline)
    )
    package static let compression = server(
        "--compression",
        "WS_COMPRESSION",
        "Accept permessage-deflate when a client offers it (on/off); each broadcast is deflated once.",
        defaults.compression.enabled ? "on" : "off"
    )
    package static let compressionThreshold = server(
        "--compression-threshold",
        "WS_COMPRESSION_THRESHOLD_BYTES",
        "Messages below this many bytes go uncompressed on compressed connections.",
        "\(defaults.compression.thresholdBytes)"
    )
    package static let historySize = server(
        "--history-size",
        "WS_HISTORY_SIZE",
        "Events kept per topic for clients that reconnect (in memory; with Redis, also in Redis Streams); 0 turns the history off.",
        "\(defaults.history.size)"
    )
    package static let historyMaxAge = server(
        "--history-max-age",
        "WS_HISTORY_MAX_AGE_SECONDS",
        "Seconds an event is kept for reconnecting clients.",
        seconds(defaults.history.maxAge)
    )
    package static let idleTimeout = server(
        "--idle-timeout",
        "WS_IDLE_TIMEOUT_SECONDS",
        "Seconds without an inbound message before a connection is closed.",
        seconds(defaults.timeouts.idle)
    )
    package static let handshakeTimeout = server(
        "--handshake-timeout",
        "WS_HANDSHAKE_TIMEOUT_SECONDS",
        "Seconds a new connection has to send its first request.",
        seconds(defaults.timeouts.handshake)
    )
    package static let echoEndpoint = server(
        "--echo-endpoint",
        "WS_ECHO_ENDPOINT",
        "Serve an echo WebSocket at / with the production WebSocket configuration, for conformance suites; never in production (true/false).",
        "off"
    )
    package static let logLevel = server(
        "--log-level",
        "LOG_LEVEL",
        "trace, debug, info, notice, warning, error or critical.",
        defaults.logLevel.rawValue
    )
    package static let logFormat = server("--log-format", "LOG_FORMAT", "text, or json: one object per line.", defaults.logFormat.rawValue)

    package static let authRequired = access(
        "--auth-required",
        "WS_AUTH_REQUIRED",
        "Require a credential for every WebSocket and an admin one for operator endpoints (true/false).",
        "\(accessDefaults.required)"
    )
    package static let authMode = access("--auth-mode", "WS_AUTH_MODE", "token (one shared secret) or jwt.", accessDefaults.mode.rawValue)
    package static let authToken = access(
        "--auth-token",
        "WS_AUTH_TOKEN",
        "The shared token of token mode; prefer the environment for secrets.",
        nil
    )
    package static let adminToken = access(
        "--admin-token",
        "WS_ADMIN_TOKEN",
        "An operator token for broadcast, disconnect, stats and metrics, in either mode.",
        nil
    )
    package static let jwtSecret = access("--jwt-secret", "WS_JWT_SECRET", "HS256 secret, at least 32 bytes; prefer the environment.", nil)
    package static let jwtPublicKeyFile = access(
        "--jwt-public-key-file",
        "WS_JWT_PUBLIC_KEY_FILE",
        "File with an ES256 (P-256) or RS256 (RSA, at least 2048 bits) public key in PEM; or the PEM itself in WS_JWT_PUBLIC_KEY.",
        nil
    )
    package static let jwtIssuer = access("--jwt-issuer", "WS_JWT_ISSUER", "Required JWT iss.", nil)
    package static let jwtAudience = access("--jwt-audience", "WS_JWT_AUDIENCE", "Required member of the JWT aud.", nil)
    package static let jwtLeeway = access(
        "--jwt-leeway",
        "WS_JWT_LEEWAY_SECONDS",
        "Clock skew tolerated on exp and nbf, in seconds.",
        seconds(accessDefaults.jwt.leeway)
    )
    package static let jwtRolesClaim = access(
        "--jwt-roles-claim",
        "WS_JWT_ROLES_CLAIM",
        "JWT claim listing the roles (an array, or a space-separated string).",
        accessDefaults.jwt.rolesClaim
    )
    package static let adminRole = access("--admin-role", "WS_ADMIN_ROLE", "Role a JWT needs for the operator endpoints.", accessDefaults.adminRole)
    package static let topicRoles = access(
        "--topic-roles",
        "WS_TOPIC_ROLES",
        "Topics only some roles may subscribe to, e.g. alerts=admin|oncall,system=admin (JWT mode).",
        nil
    )
    package static let allowedOrigins = access(
        "--allowed-origins",
        "WS_ALLOWED_ORIGINS",
        "Comma list of browser origins allowed to connect, each scheme://host[:port]; empty or * allows any.",
        nil
    )

    /// Every setting, in the order `--help` and the README list them.
    package static let all: [Setting] = [
        host, port, redisURL, redisBackoffInitial, redisBackoffCap, rateLimitRps, rateLimitBurst, rateLimitCooldown,
        rateLimitAbuseWindow, maxMessageBytes, maxConnections, backpressureThreshold, outboundQueueBytes, outboundQueueFrames,
        writeDeadline, compression, compressionThreshold, historySize, historyMaxAge, idleTimeout, handshakeTimeout, echoEndpoint, logLevel,
        logFormat,
        authRequired, authMode, authToken, adminToken, jwtSecret, jwtPublicKeyFile, jwtIssuer, jwtAudience, jwtLeeway,
        jwtRolesClaim, adminRole, topicRoles, allowedOrigins,
    ]

    /// The README's table of one group.
    package static func markdownTable(_ group: Group) -> String {
        (["| flag | environment | default | what |", "|---|---|---|---|"] + all.filter { $0.group == group }.map(\.markdownRow)).joined(
            separator: "\n"
        )
    }
}
