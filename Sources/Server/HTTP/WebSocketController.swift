import Hummingbird
import HummingbirdWebSocket

/// The five HiveOps WebSocket paths.
struct WebSocketController {
    let services: GatewayServices

    func addRoutes(to router: Router<GatewayRequestContext>) {
        for endpoint in DashboardEndpoint.allCases {
            router.ws(RouterPath(endpoint.path)) { inbound, outbound, context in
                await ConnectionSession(services: services, endpoint: endpoint).run(inbound: inbound, outbound: outbound, context: context)
            }
        }
    }
}
