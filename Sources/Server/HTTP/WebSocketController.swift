import Hummingbird
import HummingbirdWebSocket
import Prometheus

/// The five HiveOps WebSocket paths.
struct WebSocketController {
    let services: GatewayServices

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
        let maxConnections = services.configuration.effectiveMaxConnections
        for endpoint in DashboardEndpoint.allCases {
            router.ws(RouterPath(endpoint.path)) { _, _ in
                // Refused before the upgrade while descriptors remain (hummingbird-websocket turns any
                // refusal into a bare 400; the 503 is what a plain GET of the path answers).
                guard services.manager.count < maxConnections else {
                    services.metrics.connectionsRefused.increment()
                    throw HTTPError(.serviceUnavailable, message: "Too many connections (at most \(maxConnections))")
                }
                return .upgrade([:])
            } onUpgrade: { inbound, outbound, context in
                await ConnectionSession(services: services, endpoint: endpoint).run(inbound: inbound, outbound: outbound, context: context)
            }
        }
    }
}
