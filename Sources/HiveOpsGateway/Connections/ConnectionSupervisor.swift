package import Logging
import Prometheus
import ServiceLifecycle

/// One timer for all connections: idle timeouts, pings, write deadlines and close
/// grace. On graceful shutdown it tells every client `server_shutdown`, closes
/// with 1001 and waits (bounded) for them to go, before the server stops.
package struct ConnectionSupervisor: Service {
    let manager: ConnectionManager
    let metrics: GatewayMetrics
    let rules: ConnectionStateMachine.SweepRules
    /// How often the rules run.
    let sweepInterval: Duration
    /// How long shutdown waits for clients to answer their close frames.
    let shutdownDrainTimeout: Duration
    let logger: Logger

    package init(
        manager: ConnectionManager,
        metrics: GatewayMetrics,
        configuration: GatewayConfiguration,
        logger: Logger,
        shutdownDrainTimeout: Duration = .seconds(3)
    ) {
        self.manager = manager
        self.metrics = metrics
        self.rules = ConnectionStateMachine.SweepRules(
            writeDeadline: configuration.outbound.writeDeadline,
            closeGrace: configuration.timeouts.closeGrace,
            pingInterval: configuration.timeouts.ping
        )
        self.sweepInterval = configuration.timeouts.sweepInterval
        self.logger = logger
        self.shutdownDrainTimeout = shutdownDrainTimeout
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                sweep(now: .now)
                try? await Task.sleep(for: sweepInterval)
            }
        }
        await drainForShutdown()
    }

    /// Applies the time-based rules to every connection.
    func sweep(now: ContinuousClock.Instant) {
        for connection in manager.allConnections {
            switch connection.sweep(now: now, rules: rules) {
            case .close(.idle, _):
                metrics.idleDisconnects.increment()
                connection.logger.info("Closing an idle connection")
            case .close(.tokenExpired, _):
                metrics.tokenExpiredDisconnects.increment()
                connection.logger.info("Closing a connection whose token expired")
            case .close(.backpressure, _):
                metrics.sendFailures.increment()
                metrics.backpressureDisconnects.increment()
                connection.logger.warning("Send failed: write deadline passed; disconnecting for backpressure")
            case .writeDeadlineMissed:
                metrics.sendFailures.increment()
                connection.logger.warning("Send failed: write deadline passed")
            case .forceClose(.pingTimeout):
                connection.logger.info("Closing a connection that answered no ping")
            case .forceClose(.closeGraceElapsed), .sendPing, .none:
                break
            }
        }
    }

    private func drainForShutdown() async {
        let connections = manager.allConnections
        guard !connections.isEmpty else { return }
        logger.info("Shutting down: closing connections", metadata: ["connections": "\(connections.count)"])
        for connection in connections { connection.requestClose(.serverShutdown) }
        // Cancelled (not a graceful shutdown): no waiting. The sockets are closed either way: they
        // live in their pipelines, not in the server's tasks, so stopping the server does not end them.
        let deadline = ContinuousClock.now + shutdownDrainTimeout
        while manager.count > 0, ContinuousClock.now < deadline, !Task.isCancelled {
            sweep(now: .now)
            try? await Task.sleep(for: .milliseconds(20))
        }
        for connection in manager.allConnections { connection.forceClose() }
    }
}

extension ConnectionSupervisor: CustomStringConvertible {
    package var description: String { "ConnectionSupervisor" }
}
