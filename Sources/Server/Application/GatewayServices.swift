import Foundation
package import GeneratedMessages
package import Logging

/// The parts every route and connection share. A class: each connection keeps one reference,
/// not its own copy of the configuration.
package final class GatewayServices: Sendable {
    package let configuration: GatewayConfiguration
    /// Open WebSocket connections at most: `--max-connections`, else the open-file limit less 256,
    /// resolved once at start-up.
    package let connectionCap: Int
    package let metrics: GatewayMetrics
    package let manager: ConnectionManager
    package let lastKnown: LastKnownData
    package let router: EventRouter
    package let bus: any EventBus
    package let access: AccessPolicy
    package let encoder = FrameEncoder()
    package let logger: Logger

    package init(
        configuration: GatewayConfiguration,
        connectionCap: Int,
        metrics: GatewayMetrics,
        manager: ConnectionManager,
        lastKnown: LastKnownData,
        router: EventRouter,
        bus: any EventBus,
        access: AccessPolicy,
        logger: Logger
    ) {
        self.access = access
        self.configuration = configuration
        self.connectionCap = connectionCap
        self.metrics = metrics
        self.manager = manager
        self.lastKnown = lastKnown
        self.router = router
        self.bus = bus
        self.logger = logger
    }

    /// The gateway's own health: the WebSocket layer and the broker.
    package func health() -> HealthReport {
        var components = bus.health()
        components["websocket"] = ComponentHealth(status: .healthy, detail: "\(manager.count) open connections")
        let worst = components.values.map(\.status).max() ?? .healthy
        // A broker outage leaves WebSockets working: the gateway is degraded, not down.
        let overall: ComponentHealth.Status = components["websocket"]?.status == .unhealthy ? .unhealthy : (worst == .healthy ? .healthy : .degraded)
        return HealthReport(
            status: overall,
            version: GatewayVersion.current,
            wsContractVersion: configuration.contractVersion,
            timestamp: FrameEncoder.timestamp(),
            components: components,
            summary: .init(
                healthy: components.values.filter { $0.status == .healthy }.count,
                unhealthy: components.values.filter { $0.status != .healthy }.count,
                total: components.count
            )
        )
    }

    /// The answer to a known `request_data`: last-known data, or the gateway's health.
    package func data(for dataType: DataType) -> [String: JSONValue] {
        switch dataType {
        case .agentStatus:
            lastKnown.data(for: "agent_update") ?? ["agents": [], "summary": ["total": 0, "active": 0]]
        case .coordinationMetrics:
            lastKnown.data(for: "coordination_update") ?? ["success_rate": nil, "trend": "unknown"]
        case .systemHealth, .unknown:
            health().jsonObject
        }
    }
}

/// The gateway's release version, reported by `/health`.
package enum GatewayVersion {
    package static let current = "0.1.0"
}

package struct HealthReport: Sendable, Codable, Equatable {
    package struct Summary: Sendable, Codable, Equatable {
        package var healthy: Int
        package var unhealthy: Int
        package var total: Int
    }

    package var status: ComponentHealth.Status
    package var version: String
    package var wsContractVersion: String
    package var timestamp: String
    package var components: [String: ComponentHealth]
    package var summary: Summary

    enum CodingKeys: String, CodingKey {
        case status, version, timestamp, components, summary
        case wsContractVersion = "ws_contract_version"
    }

    /// The report as `request_data` `system_health` data, in the HiveOps shape.
    package var jsonObject: [String: JSONValue] {
        var components: [String: JSONValue] = [:]
        for (name, component) in self.components {
            var entry: [String: JSONValue] = ["status": .string(component.status.rawValue)]
            if let detail = component.detail { entry["detail"] = .string(detail) }
            if let lastError = component.lastError { entry["last_error"] = .string(lastError) }
            components[name] = .object(entry)
        }
        return [
            "overall_status": .string(status.rawValue),
            "components": .object(components),
            "timestamp": .string(timestamp),
        ]
    }
}
