import Foundation
import GeneratedMessages
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Prometheus

/// The five HiveOps WebSocket paths. Upgrades are decided here, outside the HTTP router: the
/// router's WebSocket routes keep each request's context alive for good (the context holds the
/// handler reference that holds the context), which leaked every connection's channel. Every
/// refusal happens before the upgrade, with a status the client sees: 403 for an Origin or a topic,
/// 401 for a credential, 503 past the connection cap, 404 for another path.
package struct WebSocketController: Sendable {
    let access: AccessPolicy
    let manager: ConnectionManager
    let metrics: GatewayMetrics
    /// Open WebSocket connections at most: `--max-connections`, else the open-file limit less 256.
    let connectionCap: Int
    /// Whether `/` is the echo endpoint (`--echo-endpoint`).
    let echoEndpoint: Bool
    /// Whether a permessage-deflate offer is accepted (`--compression`).
    let compressionEnabled: Bool
    /// One refusal log line per error kind a second: the counters have the totals.
    private let refusalLog = SharedLogLimiter(interval: .seconds(1))

    package init(
        access: AccessPolicy,
        manager: ConnectionManager,
        metrics: GatewayMetrics,
        connectionCap: Int,
        echoEndpoint: Bool,
        compressionEnabled: Bool
    ) {
        self.access = access
        self.manager = manager
        self.metrics = metrics
        self.connectionCap = connectionCap
        self.echoEndpoint = echoEndpoint
        self.compressionEnabled = compressionEnabled
    }

    /// An accepted upgrade: the answer's extra headers, and what the connection's handler needs.
    struct Acceptance {
        var headers: HTTPHeaders
        var role: WebSocketConnectionHandler.Role
        /// What permessage-deflate the connection runs with; nil uncompressed.
        var deflate: PerMessageDeflate?
    }

    /// Decides one upgrade request: the echo endpoint (when enabled), a dashboard path, or a
    /// refusal, and the compression the connection runs with. Async because a JWT's signature is
    /// checked by jwt-kit's key collection, an actor.
    func upgrade(_ head: HTTPRequestHead, remote: SocketAddress?, logger: Logger) async throws(AccessRefusal) -> Acceptance {
        let request = UpgradeRequest(head)
        var headers = HTTPHeaders()
        let deflate =
            compressionEnabled ? PerMessageDeflate.negotiate(offers: head.headers[canonicalForm: "Sec-WebSocket-Extensions"].map(String.init)) : nil
        let role: WebSocketConnectionHandler.Role
        if echoEndpoint, request.path == "/" {
            role = .echo
        } else {
            let admission = try await admit(request, logger: logger, remote: remote)
            if let selected = admission.grant.selectedProtocol { headers.add(name: "Sec-WebSocket-Protocol", value: selected) }
            role = .dashboard(admission, request)
        }
        if let deflate {
            headers.add(name: "Sec-WebSocket-Extensions", value: deflate.responseHeaderValue)
            metrics.compressedConnections.increment()
        }
        return Acceptance(headers: headers, role: role, deflate: deflate)
    }

    /// A plain GET of a WebSocket path runs the same checks, so a browser whose handshake failed can
    /// learn why (401, 403, 503); an admissible request gets 426 Upgrade Required.
    func addRoutes(to router: Router<GatewayRequestContext>) {
        for endpoint in DashboardEndpoint.allCases {
            router.get(RouterPath(endpoint.path)) { request, context -> Response in
                let upgrade = UpgradeRequest(path: request.uri.path, query: request.uri.queryParameters, headers: request.headers)
                _ = try await admit(upgrade, logger: context.logger, remote: nil)
                throw AccessRefusal(
                    status: .upgradeRequired,
                    error: "upgrade_required",
                    detail: "\(endpoint.path) is a WebSocket endpoint",
                    kind: .route
                )
            }
        }
    }

    /// Path, Origin, credential, requested topics, then capacity; a refusal is counted and logged
    /// without the credential.
    /// What an admitted upgrade carries to its session: the topics asked for in `?subscriptions=`
    /// are resolved once, here.
    struct Admission {
        var endpoint: DashboardEndpoint
        var grant: AccessGrant
        /// The names in `?subscriptions=` (dashboard only) and what they resolve to.
        var requested: (names: [String], resolution: SubscriptionRules.Resolution)?
    }

    private func admit(_ request: UpgradeRequest, logger: Logger, remote: SocketAddress?) async throws(AccessRefusal) -> Admission {
        do throws(AccessRefusal) {
            guard let endpoint = DashboardEndpoint(path: request.path) else { throw AccessRefusal.notFound(request.path) }
            let credential = UpgradeCredential(headers: request.headers, queryToken: request.queryToken)
            let grant = try await access.admitUpgrade(origin: request.headers[.origin], credential: credential, now: Date()).get()
            var admission = Admission(endpoint: endpoint, grant: grant)
            if endpoint.isDashboard, let query = request.query["subscriptions"] {
                let names = SubscriptionRules.names(fromQuery: String(query))
                let resolution = SubscriptionRules.resolve(names)
                let forbidden = resolution.valid.filter { !grant.permits($0) }
                if !forbidden.isEmpty { throw AccessRefusal.forbiddenTopics(SubscriptionRules.sorted(forbidden).map(\.rawValue)) }
                admission.requested = (names, resolution)
            }
            let maxConnections = connectionCap
            guard manager.count < maxConnections else { throw AccessRefusal.tooManyConnections(limit: maxConnections) }
            return admission
        } catch {
            record(error, path: request.path, logger: logger, remote: remote)
            throw error
        }
    }

    private func record(_ refusal: AccessRefusal, path: String, logger: Logger, remote: SocketAddress?) {
        switch refusal.kind {
        case .credential, .topic, .role: metrics.authDenied.increment()
        case .origin: metrics.originDenied.increment()
        case .capacity: metrics.connectionsRefused.increment()
        case .route: return
        }
        guard refusalLog.allow(refusal.error) else { return }
        // The path only: the query may carry an access_token.
        logger.notice(
            "WebSocket upgrade refused",
            metadata: [
                "path": "\(path)",
                "status": "\(refusal.status.code)",
                "error": "\(refusal.error)",
                "detail": "\(refusal.detail)",
                "remote": "\(remote?.description ?? "unknown")",
            ]
        )
    }
}
