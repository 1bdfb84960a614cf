import ArgumentParser
import Foundation
import Glibc
import HiveOpsGateway
import Logging
import Metrics
import Prometheus
import RedisClient

/// `hiveops-gateway`: every setting has a flag and an environment variable;
/// flags win over the environment, the environment over the defaults.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hiveops-gateway",
        abstract: "The HiveOps dashboard WebSocket gateway.",
        discussion: """
            With no settings it listens on 127.0.0.1:8000 with an in-process broker (no Redis).
            Each option can also be set by the environment variable named in its help; a flag wins.
            """
    )

    @Option(help: "Address to listen on. (env: HIVEOPS_HOST, default: 127.0.0.1)")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one. (env: PORT, default: 8000)")
    var port: Int?

    @Option(help: "redis://[user:password@]host:port[/db] for scale-out; none runs the in-process broker. (env: REDIS_URL)")
    var redisURL: String?

    @Option(help: "First Redis reconnect delay ceiling in seconds (full jitter, doubling). (env: REDIS_BACKOFF_INITIAL_SECONDS, default: 0.5)")
    var redisBackoffInitial: Double?

    @Option(help: "Largest Redis reconnect delay in seconds. (env: REDIS_BACKOFF_CAP_SECONDS, default: 30)")
    var redisBackoffCap: Double?

    @Option(help: "Inbound messages a second per connection. (env: WS_RATE_TOKENS_PER_SEC, default: 20)")
    var rateLimitRps: Double?

    @Option(help: "Inbound burst per connection. (env: WS_RATE_BURST, default: 40)")
    var rateLimitBurst: Int?

    @Option(help: "Seconds between two rate-limit notices to one client. (env: WS_RATE_NOTIFY_COOLDOWN_SECONDS, default: 5)")
    var rateLimitCooldown: Double?

    @Option(help: "Seconds of continuous flooding before a client is disconnected (1008); 0 never. (env: WS_RATE_ABUSE_WINDOW_SECONDS, default: 30)")
    var rateLimitAbuseWindow: Double?

    @Option(help: "Largest inbound text message in bytes; larger ones get an error. (env: WS_MAX_MESSAGE_BYTES, default: 65536)")
    var maxMessageBytes: Int?

    @Option(
        help:
            "Open WebSocket connections at most; more are refused before the upgrade. (env: WS_MAX_CONNECTIONS, default: the open-file limit less 256)"
    )
    var maxConnections: Int?

    @Option(help: "Consecutive send failures before a slow client is disconnected (1013). (env: WS_BACKPRESSURE_THRESHOLD, default: 5)")
    var backpressureThreshold: Int?

    @Option(help: "Outbound queue bound per connection, in bytes. (env: WS_OUTBOUND_QUEUE_BYTES, default: 4194304)")
    var outboundQueueBytes: Int?

    @Option(help: "Outbound queue bound per connection, in frames. (env: WS_OUTBOUND_QUEUE_FRAMES, default: 10000)")
    var outboundQueueFrames: Int?

    @Option(help: "Seconds a write may take before it counts as a send failure. (env: WS_WRITE_DEADLINE_SECONDS, default: 5)")
    var writeDeadline: Double?

    @Option(help: "Seconds without an inbound message before a connection is closed. (env: WS_IDLE_TIMEOUT_SECONDS, default: 600)")
    var idleTimeout: Double?

    @Option(help: "Seconds a new connection has to send its first request. (env: WS_HANDSHAKE_TIMEOUT_SECONDS, default: 10)")
    var handshakeTimeout: Double?

    @Flag(help: "Require a credential for every WebSocket and an admin one for operator endpoints. (env: WS_AUTH_REQUIRED, default: false)")
    var authRequired = false

    @Option(help: "token (one shared secret) or jwt. (env: WS_AUTH_MODE, default: token)")
    var authMode: String?

    @Option(help: "The shared token of token mode; prefer the environment for secrets. (env: WS_AUTH_TOKEN)")
    var authToken: String?

    @Option(help: "An operator token for broadcast, disconnect, stats and metrics, in either mode. (env: WS_ADMIN_TOKEN)")
    var adminToken: String?

    @Option(help: "HS256 secret, at least 32 bytes; prefer the environment. (env: WS_JWT_SECRET)")
    var jwtSecret: String?

    @Option(help: "File with an ES256 (P-256) or RS256 public key in PEM. (env: WS_JWT_PUBLIC_KEY_FILE, or the PEM itself in WS_JWT_PUBLIC_KEY)")
    var jwtPublicKeyFile: String?

    @Option(help: "Required JWT iss. (env: WS_JWT_ISSUER)")
    var jwtIssuer: String?

    @Option(help: "Required member of the JWT aud. (env: WS_JWT_AUDIENCE)")
    var jwtAudience: String?

    @Option(help: "Clock skew tolerated on exp and nbf, in seconds. (env: WS_JWT_LEEWAY_SECONDS, default: 30)")
    var jwtLeeway: Double?

    @Option(help: "JWT claim listing the roles. (env: WS_JWT_ROLES_CLAIM, default: roles)")
    var jwtRolesClaim: String?

    @Option(help: "Role a JWT needs for the operator endpoints. (env: WS_ADMIN_ROLE, default: admin)")
    var adminRole: String?

    @Option(help: "Topics only some roles may subscribe to, e.g. alerts=admin|oncall,system=admin (JWT mode). (env: WS_TOPIC_ROLES)")
    var topicRoles: String?

    @Option(help: "Comma list of browser origins allowed to connect, e.g. https://dashboard.example.com; empty allows any. (env: WS_ALLOWED_ORIGINS)")
    var allowedOrigins: String?

    @Flag(
        help:
            "Serve an echo WebSocket at / with the production WebSocket configuration, for conformance suites; never in production. (env: WS_ECHO_ENDPOINT=1)"
    )
    var echoEndpoint = false

    @Option(help: "trace, debug, info, notice, warning, error or critical. (env: LOG_LEVEL, default: info)")
    var logLevel: String?

    @Option(help: "text or json. (env: LOG_FORMAT, default: text)")
    var logFormat: String?

    func run() async throws {
        raiseOpenFileLimit()
        let configuration: GatewayConfiguration
        do {
            configuration = try resolveConfiguration(environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError("\(error)")
        }
        let logFormat = configuration.logFormat
        let logLevel = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                logFormat == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "hiveops-gateway")
        let gateway = try buildApplication(configuration: configuration, logger: logger, registry: registry) { port in
            logger.info(
                "hiveops-gateway ready",
                metadata: [
                    "address": "http://\(configuration.host):\(port)",
                    "broker": "\(configuration.redisURL == nil ? "in-process" : "redis")",
                    "contract_version": "\(configuration.contractVersion)",
                ]
            )
        }
        try await gateway.run()
    }

    /// Flags, then the environment, then the defaults; a bad value names its setting.
    func resolveConfiguration(environment: [String: String]) throws -> GatewayConfiguration {
        let settings = SettingsResolver(environment: environment)
        var configuration = GatewayConfiguration()
        configuration.host = try settings.string(host, flag: "--host", env: "HIVEOPS_HOST") ?? configuration.host
        configuration.port = try settings.integer(port, flag: "--port", env: "PORT", range: 0...65_535) ?? configuration.port
        configuration.redisURL = try settings.string(redisURL, flag: "--redis-url", env: "REDIS_URL")
        if let url = configuration.redisURL {
            do {
                _ = try RedisURL(parsing: url)
            } catch {
                // The value is not echoed: it may hold a password.
                throw SettingError(setting: "--redis-url (REDIS_URL)", value: "<hidden>", expected: error.description)
            }
        }
        if let initial = try settings.number(
            redisBackoffInitial,
            flag: "--redis-backoff-initial",
            env: "REDIS_BACKOFF_INITIAL_SECONDS",
            minimum: 0.001
        ) {
            configuration.redisBackoffInitial = .seconds(initial)
        }
        if let cap = try settings.number(redisBackoffCap, flag: "--redis-backoff-cap", env: "REDIS_BACKOFF_CAP_SECONDS", minimum: 0.001) {
            configuration.redisBackoffCap = .seconds(cap)
        }
        configuration.rateLimitTokensPerSecond =
            try settings.number(rateLimitRps, flag: "--rate-limit-rps", env: "WS_RATE_TOKENS_PER_SEC", minimum: 0.001)
            ?? configuration.rateLimitTokensPerSecond
        configuration.rateLimitBurst =
            try settings.integer(rateLimitBurst, flag: "--rate-limit-burst", env: "WS_RATE_BURST", range: 1...1_000_000)
            ?? configuration.rateLimitBurst
        if let cooldown = try settings.number(rateLimitCooldown, flag: "--rate-limit-cooldown", env: "WS_RATE_NOTIFY_COOLDOWN_SECONDS", minimum: 0) {
            configuration.rateLimitCooldown = .seconds(cooldown)
        }
        if let window = try settings.number(rateLimitAbuseWindow, flag: "--rate-limit-abuse-window", env: "WS_RATE_ABUSE_WINDOW_SECONDS", minimum: 0)
        {
            configuration.rateLimitAbuseWindow = window == 0 ? nil : .seconds(window)
        }
        configuration.maxMessageBytes =
            try settings.integer(maxMessageBytes, flag: "--max-message-bytes", env: "WS_MAX_MESSAGE_BYTES", range: 1...configuration.maxFrameBytes)
            ?? configuration.maxMessageBytes
        configuration.maxConnections = try settings.integer(
            maxConnections,
            flag: "--max-connections",
            env: "WS_MAX_CONNECTIONS",
            range: 1...10_000_000
        )
        configuration.backpressureThreshold =
            try settings.integer(backpressureThreshold, flag: "--backpressure-threshold", env: "WS_BACKPRESSURE_THRESHOLD", range: 1...1_000_000)
            ?? configuration.backpressureThreshold
        configuration.outboundQueueMaxBytes =
            try settings.integer(outboundQueueBytes, flag: "--outbound-queue-bytes", env: "WS_OUTBOUND_QUEUE_BYTES", range: 1_024...1 << 30)
            ?? configuration.outboundQueueMaxBytes
        configuration.outboundQueueMaxFrames =
            try settings.integer(outboundQueueFrames, flag: "--outbound-queue-frames", env: "WS_OUTBOUND_QUEUE_FRAMES", range: 1...10_000_000)
            ?? configuration.outboundQueueMaxFrames
        if let deadline = try settings.number(writeDeadline, flag: "--write-deadline", env: "WS_WRITE_DEADLINE_SECONDS", minimum: 0.001) {
            configuration.writeDeadline = .seconds(deadline)
        }
        if let idle = try settings.number(idleTimeout, flag: "--idle-timeout", env: "WS_IDLE_TIMEOUT_SECONDS", minimum: 0.001) {
            configuration.idleTimeout = .seconds(idle)
        }
        if let timeout = try settings.number(handshakeTimeout, flag: "--handshake-timeout", env: "WS_HANDSHAKE_TIMEOUT_SECONDS", minimum: 0.001) {
            configuration.handshakeTimeout = .seconds(timeout)
        }
        configuration.access = try resolveAccess(settings)
        configuration.echoEndpoint = echoEndpoint || environment["WS_ECHO_ENDPOINT"] == "1"
        if let level = try settings.string(logLevel, flag: "--log-level", env: "LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw SettingError(
                    setting: "--log-level (LOG_LEVEL)",
                    value: level,
                    expected: "one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            configuration.logLevel = parsed
        }
        if let format = try settings.string(logFormat, flag: "--log-format", env: "LOG_FORMAT") {
            guard let parsed = GatewayConfiguration.LogFormat(rawValue: format.lowercased()) else {
                throw SettingError(setting: "--log-format (LOG_FORMAT)", value: format, expected: "text or json")
            }
            configuration.logFormat = parsed
        }
        return configuration
    }
}

extension GatewayCommand {
    /// The access settings; an inconsistent set (auth required with no token or key) is refused here, before start-up.
    func resolveAccess(_ settings: SettingsResolver) throws -> AccessSettings {
        var access = AccessSettings()
        access.required = try settings.boolean(authRequired, flag: "--auth-required", env: "WS_AUTH_REQUIRED") ?? false
        if let mode = try settings.string(authMode, flag: "--auth-mode", env: "WS_AUTH_MODE") {
            guard let parsed = AccessSettings.Mode(rawValue: mode.lowercased()) else {
                throw SettingError(setting: "--auth-mode (WS_AUTH_MODE)", value: mode, expected: "token or jwt")
            }
            access.mode = parsed
        }
        access.token = try settings.string(authToken, flag: "--auth-token", env: "WS_AUTH_TOKEN")
        access.adminToken = try settings.string(adminToken, flag: "--admin-token", env: "WS_ADMIN_TOKEN")
        access.jwt.secret = try settings.string(jwtSecret, flag: "--jwt-secret", env: "WS_JWT_SECRET")
        if let path = try settings.string(jwtPublicKeyFile, flag: "--jwt-public-key-file", env: "WS_JWT_PUBLIC_KEY_FILE") {
            guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw SettingError(setting: "--jwt-public-key-file (WS_JWT_PUBLIC_KEY_FILE)", value: path, expected: "a readable PEM file")
            }
            access.jwt.publicKeyPEM = pem
        } else if let pem = settings.environment["WS_JWT_PUBLIC_KEY"], !pem.isEmpty {
            access.jwt.publicKeyPEM = pem
        }
        access.jwt.issuer = try settings.string(jwtIssuer, flag: "--jwt-issuer", env: "WS_JWT_ISSUER")
        access.jwt.audience = try settings.string(jwtAudience, flag: "--jwt-audience", env: "WS_JWT_AUDIENCE")
        if let leeway = try settings.number(jwtLeeway, flag: "--jwt-leeway", env: "WS_JWT_LEEWAY_SECONDS", minimum: 0) {
            access.jwt.leeway = .seconds(leeway)
        }
        access.jwt.rolesClaim = try settings.string(jwtRolesClaim, flag: "--jwt-roles-claim", env: "WS_JWT_ROLES_CLAIM") ?? access.jwt.rolesClaim
        access.adminRole = try settings.string(adminRole, flag: "--admin-role", env: "WS_ADMIN_ROLE") ?? access.adminRole
        if let roles = try settings.string(topicRoles, flag: "--topic-roles", env: "WS_TOPIC_ROLES") {
            do {
                access.topicRoles = try AccessSettings.parseTopicRoles(roles)
            } catch {
                throw SettingError(setting: "--topic-roles (WS_TOPIC_ROLES)", value: roles, expected: "topic=role|role,... (\(error))")
            }
        }
        if let origins = try settings.string(allowedOrigins, flag: "--allowed-origins", env: "WS_ALLOWED_ORIGINS") {
            access.allowedOrigins = origins.split(separator: ",").map(String.init)
        }
        do {
            _ = try AccessPolicy(settings: access)
        } catch {
            throw AccessConfigurationError(reason: error.description)
        }
        return access
    }
}

/// The access settings do not fit together; the message says which setting to change.
struct AccessConfigurationError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "inconsistent access settings: \(reason)" }
}

/// A server holds a descriptor per client: take the whole hard limit the process is allowed.
func raiseOpenFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
