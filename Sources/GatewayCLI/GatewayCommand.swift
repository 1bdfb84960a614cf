import ArgumentParser
import Foundation
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

    @Option(help: ArgumentHelp(Setting.host.help))
    var host: String?

    @Option(help: ArgumentHelp(Setting.port.help))
    var port: Int?

    @Option(help: ArgumentHelp(Setting.redisURL.help))
    var redisURL: String?

    @Option(help: ArgumentHelp(Setting.redisBackoffInitial.help))
    var redisBackoffInitial: Double?

    @Option(help: ArgumentHelp(Setting.redisBackoffCap.help))
    var redisBackoffCap: Double?

    @Option(help: ArgumentHelp(Setting.rateLimitRps.help))
    var rateLimitRps: Double?

    @Option(help: ArgumentHelp(Setting.rateLimitBurst.help))
    var rateLimitBurst: Int?

    @Option(help: ArgumentHelp(Setting.rateLimitCooldown.help))
    var rateLimitCooldown: Double?

    @Option(help: ArgumentHelp(Setting.rateLimitAbuseWindow.help))
    var rateLimitAbuseWindow: Double?

    @Option(help: ArgumentHelp(Setting.maxMessageBytes.help))
    var maxMessageBytes: Int?

    @Option(help: ArgumentHelp(Setting.maxConnections.help))
    var maxConnections: Int?

    @Option(help: ArgumentHelp(Setting.backpressureThreshold.help))
    var backpressureThreshold: Int?

    @Option(help: ArgumentHelp(Setting.outboundQueueBytes.help))
    var outboundQueueBytes: Int?

    @Option(help: ArgumentHelp(Setting.outboundQueueFrames.help))
    var outboundQueueFrames: Int?

    @Option(help: ArgumentHelp(Setting.writeDeadline.help))
    var writeDeadline: Double?

    @Option(help: ArgumentHelp(Setting.compression.help))
    var compression: String?

    @Option(help: ArgumentHelp(Setting.compressionThreshold.help))
    var compressionThreshold: Int?

    @Option(help: ArgumentHelp(Setting.historySize.help))
    var historySize: Int?

    @Option(help: ArgumentHelp(Setting.historyMaxAge.help))
    var historyMaxAge: Double?

    @Option(help: ArgumentHelp(Setting.idleTimeout.help))
    var idleTimeout: Double?

    @Option(help: ArgumentHelp(Setting.handshakeTimeout.help))
    var handshakeTimeout: Double?

    @Flag(help: ArgumentHelp(Setting.authRequired.help))
    var authRequired = false

    @Option(help: ArgumentHelp(Setting.authMode.help))
    var authMode: String?

    @Option(help: ArgumentHelp(Setting.authToken.help))
    var authToken: String?

    @Option(help: ArgumentHelp(Setting.adminToken.help))
    var adminToken: String?

    @Option(help: ArgumentHelp(Setting.jwtSecret.help))
    var jwtSecret: String?

    @Option(help: ArgumentHelp(Setting.jwtPublicKeyFile.help))
    var jwtPublicKeyFile: String?

    @Option(help: ArgumentHelp(Setting.jwtIssuer.help))
    var jwtIssuer: String?

    @Option(help: ArgumentHelp(Setting.jwtAudience.help))
    var jwtAudience: String?

    @Option(help: ArgumentHelp(Setting.jwtLeeway.help))
    var jwtLeeway: Double?

    @Option(help: ArgumentHelp(Setting.jwtRolesClaim.help))
    var jwtRolesClaim: String?

    @Option(help: ArgumentHelp(Setting.adminRole.help))
    var adminRole: String?

    @Option(help: ArgumentHelp(Setting.topicRoles.help))
    var topicRoles: String?

    @Option(help: ArgumentHelp(Setting.allowedOrigins.help))
    var allowedOrigins: String?

    @Flag(help: ArgumentHelp(Setting.echoEndpoint.help))
    var echoEndpoint = false

    @Option(help: ArgumentHelp(Setting.logLevel.help))
    var logLevel: String?

    @Option(help: ArgumentHelp(Setting.logFormat.help))
    var logFormat: String?

    func run() async throws {
        OpenFileLimit.raiseToHardLimit()
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
                    "broker": "\(configuration.redis == nil ? "in-process" : "redis")",
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
        configuration.host = settings.string(host, .host) ?? configuration.host
        configuration.port = try settings.integer(port, .port, range: 0...65_535) ?? configuration.port
        configuration.redis = try resolveRedis(settings)
        let rateLimit = configuration.rateLimit
        configuration.rateLimit.tokensPerSecond = try settings.number(rateLimitRps, .rateLimitRps, minimum: 0.001) ?? rateLimit.tokensPerSecond
        configuration.rateLimit.burst = try settings.integer(rateLimitBurst, .rateLimitBurst, range: 1...1_000_000) ?? rateLimit.burst
        if let cooldown = try settings.number(rateLimitCooldown, .rateLimitCooldown, minimum: 0) {
            configuration.rateLimit.cooldown = .seconds(cooldown)
        }
        if let window = try settings.number(rateLimitAbuseWindow, .rateLimitAbuseWindow, minimum: 0) {
            configuration.rateLimit.abuseWindow = window == 0 ? nil : .seconds(window)
        }
        let limits = configuration.limits
        configuration.limits.maxMessageBytes =
            try settings.integer(maxMessageBytes, .maxMessageBytes, range: 1...limits.maxFrameBytes) ?? limits.maxMessageBytes
        configuration.limits.maxConnections = try settings.integer(maxConnections, .maxConnections, range: 1...10_000_000)
        let outbound = configuration.outbound
        configuration.outbound.backpressureThreshold =
            try settings.integer(backpressureThreshold, .backpressureThreshold, range: 1...1_000_000) ?? outbound.backpressureThreshold
        configuration.outbound.queueBytes =
            try settings.integer(outboundQueueBytes, .outboundQueueBytes, range: 1_024...1 << 30) ?? outbound.queueBytes
        configuration.outbound.queueFrames =
            try settings.integer(outboundQueueFrames, .outboundQueueFrames, range: 1...10_000_000) ?? outbound.queueFrames
        if let deadline = try settings.number(writeDeadline, .writeDeadline, minimum: 0.001) {
            configuration.outbound.writeDeadline = .seconds(deadline)
        }
        configuration.compression.enabled = try settings.toggle(compression, .compression) ?? configuration.compression.enabled
        configuration.compression.thresholdBytes =
            try settings.integer(compressionThreshold, .compressionThreshold, range: 0...limits.maxFrameBytes)
            ?? configuration.compression.thresholdBytes
        configuration.history.size = try settings.integer(historySize, .historySize, range: 0...1_000_000) ?? configuration.history.size
        if let age = try settings.number(historyMaxAge, .historyMaxAge, minimum: 0.001) {
            configuration.history.maxAge = .seconds(age)
        }
        if let idle = try settings.number(idleTimeout, .idleTimeout, minimum: 0.001) {
            configuration.timeouts.idle = .seconds(idle)
        }
        if let timeout = try settings.number(handshakeTimeout, .handshakeTimeout, minimum: 0.001) {
            configuration.timeouts.handshake = .seconds(timeout)
        }
        configuration.access = try resolveAccess(settings)
        configuration.echoEndpoint = try settings.boolean(echoEndpoint, .echoEndpoint) ?? configuration.echoEndpoint
        if let level = settings.string(logLevel, .logLevel) {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw SettingError(
                    setting: Setting.logLevel.name,
                    value: level,
                    expected: "one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            configuration.logLevel = parsed
        }
        if let format = settings.string(logFormat, .logFormat) {
            guard let parsed = GatewayConfiguration.LogFormat(rawValue: format.lowercased()) else {
                throw SettingError(setting: Setting.logFormat.name, value: format, expected: "text or json")
            }
            configuration.logFormat = parsed
        }
        return configuration
    }
}

extension GatewayCommand {
    /// The Redis broker's settings; nil without a URL (the in-process broker).
    func resolveRedis(_ settings: SettingsResolver) throws -> RedisEventBus.Settings? {
        guard let url = settings.string(redisURL, .redisURL) else { return nil }
        var redis: RedisEventBus.Settings
        do {
            redis = RedisEventBus.Settings(url: try RedisURL(parsing: url))
        } catch {
            // The value is not echoed: it may hold a password.
            throw SettingError(setting: Setting.redisURL.name, value: "<hidden>", expected: error.description)
        }
        if let initial = try settings.number(redisBackoffInitial, .redisBackoffInitial, minimum: 0.001) {
            redis.backoffInitial = .seconds(initial)
        }
        if let cap = try settings.number(redisBackoffCap, .redisBackoffCap, minimum: 0.001) {
            redis.backoffCap = .seconds(cap)
        }
        return redis
    }

    /// The access settings; an inconsistent set (auth required with no token or key) is refused here, before start-up.
    func resolveAccess(_ settings: SettingsResolver) throws -> AccessSettings {
        var access = AccessSettings()
        access.required = try settings.boolean(authRequired, .authRequired) ?? access.required
        if let mode = settings.string(authMode, .authMode) {
            guard let parsed = AccessSettings.Mode(rawValue: mode.lowercased()) else {
                throw SettingError(setting: Setting.authMode.name, value: mode, expected: "token or jwt")
            }
            access.mode = parsed
        }
        access.token = settings.string(authToken, .authToken)
        access.adminToken = settings.string(adminToken, .adminToken)
        access.jwt.secret = settings.string(jwtSecret, .jwtSecret)
        if let path = settings.string(jwtPublicKeyFile, .jwtPublicKeyFile) {
            guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw SettingError(setting: Setting.jwtPublicKeyFile.name, value: path, expected: "a readable PEM file")
            }
            access.jwt.publicKeyPEM = pem
        } else if let pem = settings.environment["WS_JWT_PUBLIC_KEY"], !pem.isEmpty {
            access.jwt.publicKeyPEM = pem
        }
        access.jwt.issuer = settings.string(jwtIssuer, .jwtIssuer)
        access.jwt.audience = settings.string(jwtAudience, .jwtAudience)
        if let leeway = try settings.number(jwtLeeway, .jwtLeeway, minimum: 0) {
            access.jwt.leeway = .seconds(leeway)
        }
        access.jwt.rolesClaim = settings.string(jwtRolesClaim, .jwtRolesClaim) ?? access.jwt.rolesClaim
        access.adminRole = settings.string(adminRole, .adminRole) ?? access.adminRole
        if let roles = settings.string(topicRoles, .topicRoles) {
            do {
                access.topicRoles = try AccessSettings.parseTopicRoles(roles)
            } catch {
                throw SettingError(setting: Setting.topicRoles.name, value: roles, expected: "topic=role|role,... (\(error))")
            }
        }
        if let origins = settings.string(allowedOrigins, .allowedOrigins) {
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
