import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import Prometheus

/// The five HiveOps WebSocket paths. Every refusal happens before the upgrade,
/// with a status the client sees: 403 for an Origin or a topic, 401 for a
/// credential, 503 past the connection cap.
struct WebSocketController {
    let services: GatewayServices
    /// One refusal log line per error kind a second: the counters have the totals.
    private let refusalLog = SharedLogLimiter(interval: .seconds(1))

    func addRoutes(to router: Router<GatewayRequestContext>) {
        if services.configuration.echoEndpoint {
            router.ws("/") { inbound, outbound, _ in
                for try await message in inbound.messages(maxSize: services.configuration.maxFrameBytes) {
                    switch message {
                    case .text(let text): try await outbound.write(.text(text))
                    case .binary(let buffer): try await outbound.write(.binary(buffer))
                    }
                }
            }
        }
        for endpoint in DashboardEndpoint.allCases {
            router.ws(RouterPath(endpoint.path)) { request, context in
                let grant = try await admit(request, to: endpoint, context: context)
                context.upgradeGrant.value = grant
                var headers: HTTPFields = [:]
                if let selected = grant.selectedProtocol { headers[.secWebSocketProtocol] = selected }
                return .upgrade(headers)
            } onUpgrade: { inbound, outbound, context in
                guard let grant = context.requestContext.upgradeGrant.value else { return }
                try await ConnectionSession(services: services, endpoint: endpoint, grant: grant)
                    .run(inbound: inbound, outbound: outbound, context: context)
            }
        }
    }

    /// Origin, credential, requested topics, then capacity; a refusal is counted, logged without the
    /// credential, and answered with its own status even on an upgrade request.
    private func admit(_ request: Request, to endpoint: DashboardEndpoint, context: GatewayRequestContext) async throws -> AccessGrant {
        let query = request.uri.queryParameters
        do {
            let credential = UpgradeCredential(headers: request.headers, queryToken: query["access_token"].map(String.init))
            let grant = try services.access.admitUpgrade(origin: request.headers[.origin], credential: credential, now: Date()).get()
            if endpoint.isDashboard, let requested = query["subscriptions"] {
                let forbidden = SubscriptionRules.resolve(SubscriptionRules.names(fromQuery: String(requested))).valid.filter { !grant.permits($0) }
                if !forbidden.isEmpty { throw AccessRefusal.forbiddenTopics(SubscriptionRules.sorted(forbidden).map(\.rawValue)) }
            }
            let maxConnections = services.configuration.effectiveMaxConnections
            guard services.manager.count < maxConnections else { throw AccessRefusal.tooManyConnections(limit: maxConnections) }
            return grant
        } catch let refusal as AccessRefusal {
            record(refusal, path: request.uri.path, context: context)
            // hummingbird-websocket answers a refused upgrade with a bare 400: put the real answer in its place.
            if request.headers[.upgrade]?.lowercased() == "websocket" {
                try await RefusedUpgradeResponder.install(refusal, on: context.channel)
            }
            throw refusal
        }
    }

    private func record(_ refusal: AccessRefusal, path: String, context: GatewayRequestContext) {
        switch refusal.kind {
        case .credential, .topic, .role: services.metrics.authDenied.increment()
        case .origin: services.metrics.originDenied.increment()
        case .capacity: services.metrics.connectionsRefused.increment()
        }
        guard refusalLog.allow(refusal.error) else { return }
        // The path only: the query may carry an access_token.
        context.logger.notice(
            "WebSocket upgrade refused",
            metadata: [
                "path": "\(path)",
                "status": "\(refusal.status.code)",
                "error": "\(refusal.error)",
                "detail": "\(refusal.detail)",
                "remote": "\(context.channel.remoteAddress?.description ?? "unknown")",
            ]
        )
    }
}
