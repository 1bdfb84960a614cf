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
            requestedData: RequestedData(lastKnown: lastKnown, health: health)
        )
    }

    var manager: ConnectionManager { dependencies.manager }
}
