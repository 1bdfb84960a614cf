import Logging
import Prometheus
import ServiceLifecycle

/// One timer for all connections: idle timeouts, pings, write deadlines and close
/// grace. On graceful shutdown it tells every client `server_shutdown`, closes
/// with 1001 and waits (bounded) for them to go, before the server stops.
package struct ConnectionSupervisor: Service {
    let services: GatewayServices
    /// How long shutdown waits for clients to answer their close frames.
    let shutdownDrainTimeout: Duration

    package init(services: GatewayServices, shutdownDrainTimeout: Duration = .seconds(3)) {
        self.services = services
        self.shutdownDrainTimeout = shutdownDrainTimeout
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                sweep(now: .now)
                try? await Task.sleep(for: services.configuration.timeouts.sweepInterval)
            }
        }
        await drainForShutdown()
    }

    /// Applies the time-based rules to every connection.
    func sweep(now: ContinuousClock.Instant) {
        let configuration = services.configuration
        let rules = ConnectionStateMachine.SweepRules(
            writeDeadline: configuration.outbound.writeDeadline,
            closeGrace: configuration.timeouts.closeGrace,
            pingInterval: configuration.timeouts.ping
        )
        for connection in services.manager.allConnections {
            switch connection.sweep(now: now, rules: rules) {
            case .close(.idle, _):
                services.metrics.idleDisconnects.increment()
                connection.logger.info("Closing an idle connection")
            case .close(.tokenExpired, _):
                services.metrics.tokenExpiredDisconnects.increment()
                connection.logger.info("Closing a connection whose token expired")
            case .close(.backpressure, _):
                services.metrics.sendFailures.increment()
                services.metrics.backpressureDisconnects.increment()
                connection.logger.warning("Send failed: write deadline passed; disconnecting for backpressure")
            case .writeDeadlineMissed:
                services.metrics.sendFailures.increment()
                connection.logger.warning("Send failed: write deadline passed")
            case .forceClose(.pingTimeout):
                connection.logger.info("Closing a connection that answered no ping")
            case .forceClose(.closeGraceElapsed), .sendPing, .none:
                break
            }
        }
    }

    private func drainForShutdown() async {
        let connections = services.manager.allConnections
        guard !connections.isEmpty else { return }
        services.logger.info("Shutting down: closing connections", metadata: ["connections": "\(connections.count)"])
        for connection in connections { connection.requestClose(.serverShutdown) }
        // Cancelled (not a graceful shutdown): no waiting. The sockets are closed either way: they
        // live in their pipelines, not in the server's tasks, so stopping the server does not end them.
        let deadline = ContinuousClock.now + shutdownDrainTimeout
        while services.manager.count > 0, ContinuousClock.now < deadline, !Task.isCancelled {
            sweep(now: .now)
            try? await Task.sleep(for: .milliseconds(20))
        }
        for connection in services.manager.allConnections { connection.forceClose() }
    }
}

extension ConnectionSupervisor: CustomStringConvertible {
    package var description: String { "ConnectionSupervisor" }
}
