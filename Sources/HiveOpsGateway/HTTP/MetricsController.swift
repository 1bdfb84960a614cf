import Foundation
import Hummingbird
import NIOCore
import Prometheus

/// `/api/dashboard/metrics/websockets` (the WebSocket families, Prometheus text
/// or JSON by content negotiation) and `/metrics` (the whole registry).
struct MetricsController {
    let metrics: GatewayMetrics
    let access: AccessPolicy
    /// Read at each scrape: how much history is kept, here and (with Redis) in Redis.
    let history: EventHistory

    func addRoutes(to router: Router<GatewayRequestContext>) {
        // Metrics name every connection count and rate: an admin credential whenever auth is on.
        let router = router.group().add(middleware: AdminAccessMiddleware(access: access, metrics: metrics))
        router.get("/api/dashboard/metrics/websockets") { request, context in
            await history.refreshGauges()
            let exposition = PrometheusExposition(text: metrics.registry.emitToString())
            if wantsJSON(request) {
                return try JSONResponse(
                    MetricsJSON(metrics: exposition.json(prefix: GatewayMetrics.webSocketPrefix), timestamp: FrameEncoder.timestamp())
                )
                .response(from: request, context: context)
            }
            return prometheusText(exposition.text(prefix: GatewayMetrics.webSocketPrefix))
        }
        router.get("/metrics") { _, _ in
            await history.refreshGauges()
            return prometheusText(metrics.registry.emitToString())
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
