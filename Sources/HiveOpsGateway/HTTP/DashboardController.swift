import Foundation
import GeneratedMessages
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOFoundationEssentialsCompat

/// The HiveOps REST endpoints under `/api/dashboard/websocket`.
struct DashboardController {
    let configuration: GatewayConfiguration
    let connectionCap: Int
    let access: AccessPolicy
    let manager: ConnectionManager
    let metrics: GatewayMetrics
    let bus: any EventBus
    let health: GatewayHealth

    func addRoutes(to group: RouterGroup<GatewayRequestContext>) {
        group.get("limits") { _, _ in JSONResponse(limits()) }
        group.get("contract") { _, _ in JSONResponse(contract()) }
        group.get("health") { _, _ in
            let report = health.report()
            return JSONResponse(status: report.status == .unhealthy ? .serviceUnavailable : .ok, report)
        }
        // Operator endpoints: an admin credential whenever auth is on.
        let admin = group.group().add(middleware: AdminAccessMiddleware(access: access, metrics: metrics))
        admin.get("stats") { _, _ in JSONResponse(stats()) }
        admin.post("broadcast") { request, context in try await broadcast(request, context: context) }
        admin.post("disconnect/{connection_id}") { request, context in try disconnect(request, context: context) }
    }

    struct Limits: Encodable, Sendable {
        var rateLimitTokensPerSecond: Double
        var rateLimitBurstCapacity: Int
        var rateLimitNotifyCooldownSeconds: Double
        var rateLimitAbuseWindowSeconds: Double?
        var maxInboundMessageBytes: Int
        var maxFrameBytes: Int
        var maxSubscriptionsPerConnection: Int
        var maxConnections: Int
        var backpressureDisconnectThreshold: Int
        var outboundQueueMaxBytes: Int
        var outboundQueueMaxFrames: Int
        var writeDeadlineSeconds: Double
        var permessageDeflateEnabled: Bool
        var compressionThresholdBytes: Int
        var idleDisconnectSeconds: Double
        var historySize: Int
        var historyMaxAgeSeconds: Double
        /// `memory` (one node), or `redis` (Redis Streams, shared by every node, and each node's memory).
        var historyStore: String
        var wsAuthRequired: Bool
        var wsAllowedOriginsConfigured: Bool
        var contractVersion: String
        var supportedVersions: [String]
        var timestamp: String

        enum CodingKeys: String, CodingKey {
            case rateLimitTokensPerSecond = "rate_limit_tokens_per_second"
            case rateLimitBurstCapacity = "rate_limit_burst_capacity"
            case rateLimitNotifyCooldownSeconds = "rate_limit_notify_cooldown_seconds"
            case rateLimitAbuseWindowSeconds = "rate_limit_abuse_window_seconds"
            case maxInboundMessageBytes = "max_inbound_message_bytes"
            case maxFrameBytes = "max_frame_bytes"
            case maxSubscriptionsPerConnection = "max_subscriptions_per_connection"
            case maxConnections = "max_connections"
            case backpressureDisconnectThreshold = "backpressure_disconnect_threshold"
            case outboundQueueMaxBytes = "outbound_queue_max_bytes"
            case outboundQueueMaxFrames = "outbound_queue_max_frames"
            case writeDeadlineSeconds = "write_deadline_seconds"
            case permessageDeflateEnabled = "permessage_deflate_enabled"
            case compressionThresholdBytes = "compression_threshold_bytes"
            case idleDisconnectSeconds = "idle_disconnect_seconds"
            case historySize = "history_size"
            case historyMaxAgeSeconds = "history_max_age_seconds"
            case historyStore = "history_store"
            case wsAuthRequired = "ws_auth_required"
            case wsAllowedOriginsConfigured = "ws_allowed_origins_configured"
            case contractVersion = "contract_version"
            case supportedVersions = "supported_versions"
            case timestamp
        }
    }

    func limits() -> Limits {
        Limits(
            rateLimitTokensPerSecond: configuration.rateLimit.tokensPerSecond,
            rateLimitBurstCapacity: configuration.rateLimit.burst,
            rateLimitNotifyCooldownSeconds: configuration.rateLimit.cooldown.seconds,
            rateLimitAbuseWindowSeconds: configuration.rateLimit.abuseWindow?.seconds,
            maxInboundMessageBytes: configuration.limits.maxMessageBytes,
            maxFrameBytes: configuration.limits.maxFrameBytes,
            maxSubscriptionsPerConnection: configuration.limits.maxSubscriptions,
            maxConnections: connectionCap,
            backpressureDisconnectThreshold: configuration.outbound.backpressureThreshold,
            outboundQueueMaxBytes: configuration.outbound.queueBytes,
            outboundQueueMaxFrames: configuration.outbound.queueFrames,
            writeDeadlineSeconds: configuration.outbound.writeDeadline.seconds,
            permessageDeflateEnabled: configuration.compression.enabled,
            compressionThresholdBytes: configuration.compression.thresholdBytes,
            idleDisconnectSeconds: configuration.timeouts.idle.seconds,
            historySize: configuration.history.size,
            historyMaxAgeSeconds: configuration.history.maxAge.seconds,
            historyStore: configuration.redis == nil ? "memory" : "redis",
            wsAuthRequired: configuration.access.required,
            wsAllowedOriginsConfigured: access.restrictsOrigins,
            contractVersion: configuration.contractVersion,
            supportedVersions: configuration.supportedVersions,
            timestamp: FrameEncoder.timestamp()
        )
    }

    struct Contract: Encodable, Sendable {
        struct DeprecationPolicy: Encodable, Sendable {
            var policy = "no_breaking_changes_without_minor_bump"
            var notice = "Fields are only added within a major version; clients must ignore unknown fields, frame types and enum values."
        }

        var currentVersion: String
        var supportedVersions: [String]
        var deprecationPolicy = DeprecationPolicy()

        enum CodingKeys: String, CodingKey {
            case currentVersion = "current_version"
            case supportedVersions = "supported_versions"
            case deprecationPolicy = "deprecation_policy"
        }
    }

    func contract() -> Contract {
        Contract(currentVersion: configuration.contractVersion, supportedVersions: configuration.supportedVersions)
    }

    struct Stats: Encodable, Sendable {
        struct Oldest: Encodable, Sendable {
            var connectionId: String
            var connectedAt: String
            var ageSeconds: Double

            enum CodingKeys: String, CodingKey {
                case connectionId = "connection_id"
                case connectedAt = "connected_at"
                case ageSeconds = "age_seconds"
            }
        }

        var totalConnections: Int
        var subscriptionCounts: [String: Int]
        var oldestConnection: Oldest?
        var timestamp: String

        enum CodingKeys: String, CodingKey {
            case totalConnections = "total_connections"
            case subscriptionCounts = "subscription_counts"
            case oldestConnection = "oldest_connection"
            case timestamp
        }
    }

    func stats() -> Stats {
        let stats = manager.stats()
        var counts: [String: Int] = [:]
        for (subscription, count) in stats.subscribers { counts[subscription.rawValue] = count }
        return Stats(
            totalConnections: stats.connections,
            subscriptionCounts: counts,
            oldestConnection: stats.oldest.map {
                Stats.Oldest(connectionId: $0.id, connectedAt: FrameEncoder.timestamp($0.openedAt), ageSeconds: Date().timeIntervalSince($0.openedAt))
            },
            timestamp: FrameEncoder.timestamp()
        )
    }

    struct BroadcastResult: Encodable, Sendable {
        var success: Bool
        var subscription: String
        var messageType: String
        /// This node's recipients (see ``PublishReceipt``).
        var clientsReached: Int
        /// The gateways that received it (see ``PublishReceipt``).
        var nodesReached: Int
        var correlationId: String

        enum CodingKeys: String, CodingKey {
            case success, subscription
            case messageType = "message_type"
            case clientsReached = "clients_reached"
            case nodesReached = "nodes_reached"
            case correlationId = "correlation_id"
        }
    }

    func broadcast(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        guard let subscription = query["subscription"].map(String.init), let type = query["message_type"].map(String.init) else {
            return try badRequest("Query parameters subscription and message_type are required", request: request, context: context)
        }
        let body = try await request.body.collect(upTo: configuration.limits.maxFrameBytes)
        guard let data = try? JSONDecoder().decode([String: JSONValue].self, from: body) else {
            return try badRequest("The body must be a JSON object (the frame's data)", request: request, context: context)
        }
        let correlationId = (request.headers[.init("X-Correlation-ID")!]).flatMap(InboundProcessor.echoable) ?? FrameEncoder.newCorrelationId()
        let event: BroadcastEvent
        do {
            event = try BroadcastEvent(type: type, subscription: subscription, data: data, correlationId: correlationId)
        } catch {
            return try badRequest(error.description, request: request, context: context)
        }
        let receipt = try await bus.publish(event)
        return try JSONResponse(
            BroadcastResult(
                success: true,
                subscription: subscription,
                messageType: type,
                clientsReached: receipt.clientsReached,
                nodesReached: receipt.nodesReached,
                correlationId: correlationId
            )
        ).response(from: request, context: context)
    }

    private func badRequest(_ detail: String, request: Request, context: GatewayRequestContext) throws -> Response {
        try JSONResponse(
            status: .badRequest,
            ErrorBody(
                detail: detail,
                validSubscriptions: Subscription.allCases.map(\.rawValue),
                validMessageTypes: ["*_update"] + BroadcastMessage.Member.allCases.compactMap(\.tag).sorted()
            )
        ).response(from: request, context: context)
    }

    struct DisconnectResult: Encodable, Sendable {
        var success: Bool
        var connectionId: String
        var reason: String?

        enum CodingKeys: String, CodingKey {
            case success, reason
            case connectionId = "connection_id"
        }
    }

    func disconnect(_ request: Request, context: GatewayRequestContext) throws -> Response {
        let id = context.parameters.get("connection_id") ?? ""
        let reason = request.uri.queryParameters["reason"].map(String.init)
        guard let connection = manager.connection(id: id), connection.requestClose(.admin(detail: reason)) else {
            return try JSONResponse(status: .notFound, ErrorBody(detail: "Connection \(id) not found")).response(from: request, context: context)
        }
        connection.logger.info("Disconnect requested by an operator", metadata: ["detail": "\(reason ?? "")"])
        return try JSONResponse(DisconnectResult(success: true, connectionId: id, reason: reason)).response(from: request, context: context)
    }
}
