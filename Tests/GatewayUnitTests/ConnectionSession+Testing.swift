import Logging
import Prometheus

@testable import HiveOpsGateway

/// What a session needs, wired as `buildApplication` wires it (in-process broker), for tests that
/// drive a handler or a session with no server.
struct SessionHarness {
    let dependencies: ConnectionSession.Dependencies
    let router: EventRouter

    init(configuration: GatewayConfiguration = GatewayConfiguration(port: 0), logger: Logger = Logger(label: "test")) {
        let metrics = GatewayMetrics(registry: PrometheusCollectorRegistry())
        let manager = ConnectionManager(metrics: metrics, logger: logger)
        let lastKnown = LastKnownData()
        let router = EventRouter(manager: manager, lastKnown: lastKnown, logger: logger)
        let health = GatewayHealth(bus: InProcessEventBus(router: router), manager: manager, contractVersion: configuration.contractVersion)
        self.router = router
        self.dependencies = ConnectionSession.Dependencies(
            configuration: configuration,
            manager: manager,
            metrics: metrics,
            requestedData: RequestedData(lastKnown: lastKnown, health: health),
            history: EventHistory(router: router, authority: nil, metrics: metrics)
        )
    }

    var manager: ConnectionManager { dependencies.manager }

    /// A metric's value (the sum of its samples) as the registry exports it now.
    func metric(_ name: String) -> Double {
        var bytes: [UInt8] = []
        dependencies.metrics.registry.emit(into: &bytes)
        let family = PrometheusExposition(text: String(decoding: bytes, as: UTF8.self)).families.first { $0.name == name }
        return family?.samples.reduce(0) { $0 + $1.value } ?? 0
    }
}
