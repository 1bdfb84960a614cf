import Foundation
import Hummingbird
import Logging
import Prometheus

/// Guards the operator endpoints (broadcast, disconnect, stats, metrics) whenever
/// auth is on: an `Authorization: Bearer` admin token, or a JWT with the admin role.
/// Never a query parameter, so credentials stay out of URLs and access logs.
struct AdminAccessMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let access: AccessPolicy
    let metrics: GatewayMetrics
    private let refusalLog = SharedLogLimiter(interval: .seconds(1))

    init(access: AccessPolicy, metrics: GatewayMetrics) {
        self.access = access
        self.metrics = metrics
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let refusal = await access.admitAdmin(authorization: request.headers[.authorization], now: Date()) else {
            return try await next(request, context)
        }
        metrics.authDenied.increment()
        if refusalLog.allow(refusal.error) {
            context.logger.notice(
                "Admin request refused",
                metadata: ["path": "\(request.uri.path)", "status": "\(refusal.status.code)", "error": "\(refusal.error)"]
            )
        }
        return try refusal.response(from: request, context: context)
    }
}
