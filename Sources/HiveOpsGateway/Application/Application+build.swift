import Foundation
package import Hummingbird
import HummingbirdCore
package import Logging
import NIOCore
package import Prometheus
package import ServiceLifecycle
package import UnixSignals

/// The gateway, assembled: the Hummingbird application and the services that
/// run beside it. `run()` runs them all until SIGINT/SIGTERM.
package struct GatewayApplication: Sendable {
    /// The open connections: tests and benchmarks count and reach them.
    package let manager: ConnectionManager
    /// Delivers an event to this node's subscribers, as the broker does.
    package let router: EventRouter
    package let logger: Logger
    package let application: any ApplicationProtocol
    package let supervisor: ConnectionSupervisor
    package let extraServices: [any Service]

    /// Runs until a signal (or `gracefulShutdownSignals`) asks it to stop, then shuts down in order:
    /// connections get their notices first, then the HTTP server stops.
    package func run(gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        // ServiceGroup stops services in reverse order: the supervisor (notices, 1001) before the server.
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: application)] + extraServices.map { .init(service: $0) } + [.init(service: supervisor)],
                gracefulShutdownSignals: gracefulShutdownSignals,
                logger: logger
            )
        )
        try await group.run()
    }
}

/// Builds the gateway from its configuration.
/// - Parameters:
///   - onServerRunning: called with the bound port once the server listens (port 0 picks a free one).
package func buildApplication(
    configuration: GatewayConfiguration,
    logger: Logger,
    registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> GatewayApplication {
    let access = try AccessPolicy(settings: configuration.access)
    let metrics = GatewayMetrics(registry: registry)
    let manager = ConnectionManager(metrics: metrics, logger: logger)
    let lastKnown = LastKnownData()
    // One node numbers its own events in an epoch of its own; with Redis, Redis numbers them.
    let router = EventRouter(
        manager: manager,
        lastKnown: lastKnown,
        history: LocalHistory(settings: configuration.history),
        numbering: configuration.redis == nil ? .local(epoch: FrameEncoder.newCorrelationId()) : .redis,
        logger: logger
    )
    var extraServices: [any Service] = []
    let bus: any EventBus
    var authority: (any HistoryAuthority)?
    if let settings = configuration.redis {
        let store = RedisHistoryStore(url: settings.url, settings: configuration.history, timeout: settings.timeout, logger: logger)
        let redis = RedisEventBus(settings: settings, router: router, manager: manager, metrics: metrics, store: store, logger: logger)
        extraServices.append(redis)
        bus = redis
        authority = store
    } else {
        bus = InProcessEventBus(router: router)
    }
    let history = EventHistory(router: router, authority: authority, metrics: metrics)
    // A start-up fact, resolved once: the file limit does not change while the gateway runs.
    let connectionCap = configuration.limits.maxConnections ?? max(16, OpenFileLimit.current - 256)
    let health = GatewayHealth(bus: bus, manager: manager, contractVersion: configuration.contractVersion)
    let sessionDependencies = ConnectionSession.Dependencies(
        configuration: configuration,
        manager: manager,
        metrics: metrics,
        requestedData: RequestedData(lastKnown: lastKnown, health: health),
        history: history
    )

    let httpRouter = Router(context: GatewayRequestContext.self)
    // HTTP request metrics through swift-metrics (the CLI bootstraps it onto the same registry).
    httpRouter.add(middleware: MetricsMiddleware())
    let webSocketController = WebSocketController(
        access: access,
        manager: manager,
        metrics: metrics,
        connectionCap: connectionCap,
        echoEndpoint: configuration.echoEndpoint,
        compressionEnabled: configuration.compression.enabled
    )
    webSocketController.addRoutes(to: httpRouter)
    DashboardController(
        configuration: configuration,
        connectionCap: connectionCap,
        access: access,
        manager: manager,
        metrics: metrics,
        bus: bus,
        health: health
    )
    .addRoutes(to: httpRouter.group("/api/dashboard/websocket"))
    MetricsController(metrics: metrics, access: access, history: history).addRoutes(to: httpRouter)
    httpRouter.get("/health") { _, _ in
        let report = health.report()
        return JSONResponse(status: report.status == .unhealthy ? .serviceUnavailable : .ok, report)
    }

    let channelConfiguration = GatewayServerChannel.Configuration(
        http1: .init(
            idleTimeout: .init(configuration.timeouts.httpIdle),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: 16_384, maxHeaderListSize: 32_768, maxHeaderFieldCount: 100)
        ),
        maxFrameBytes: configuration.limits.maxFrameBytes,
        handshakeTimeout: .init(configuration.timeouts.handshake)
    )
    let application = Application(
        router: httpRouter,
        server: HTTPServerBuilder { responder in
            GatewayServerChannel(
                responder: responder,
                controller: webSocketController,
                sessionDependencies: sessionDependencies,
                configuration: channelConfiguration
            )
        },
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "hiveops-gateway"),
        onServerRunning: { channel in
            await onServerRunning(channel.localAddress?.port ?? configuration.port)
        },
        logger: logger
    )
    return GatewayApplication(
        manager: manager,
        router: router,
        logger: logger,
        application: application,
        supervisor: ConnectionSupervisor(manager: manager, metrics: metrics, configuration: configuration, logger: logger),
        extraServices: extraServices
    )
}
