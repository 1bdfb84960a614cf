import Foundation
import Hummingbird
import NIOCore
import Prometheus

/// `/api/dashboard/metrics/websockets` (the WebSocket families, Prometheus text
/// or JSON by content negotiation) and `/metrics` (the whole registry).
struct MetricsController {
    let services: GatewayServices

    func addRoutes(to router: Router<GatewayRequestContext>) {
        // Metrics name every connection count and rate: an admin credential whenever auth is on.
        let router = router.group().add(middleware: AdminAccessMiddleware(services: services))
        router.get("/api/dashboard/metrics/websockets") { request, context in
            let exposition = PrometheusExposition(text: services.metrics.registry.emitToString())
            if wantsJSON(request) {
                return try JSONResponse(
                    MetricsJSON(metrics: exposition.json(prefix: GatewayMetrics.webSocketPrefix), timestamp: FrameEncoder.timestamp())
                )
                .response(from: request, context: context)
            }
            return prometheusText(exposition.text(prefix: GatewayMetrics.webSocketPrefix))
        }
        router.get("/metrics") { _, _ in
            prometheusText(services.metrics.registry.emitToString())
        }
    }

    struct MetricsJSON: Encodable, Sendable {
        var metrics: [String: PrometheusExposition.MetricValue]
        var timestamp: String
    }

    private func wantsJSON(_ request: Request) -> Bool {
        if request.uri.queryParameters["format"] == "json" { return true }
        return request.headers[.accept]?.contains("application/json") ?? false
    }

    private func prometheusText(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}
