/// The gateway's own health: the WebSocket layer and the broker, as `/health` and
/// `request_data` `system_health` report it.
package struct GatewayHealth: Sendable {
    let bus: any EventBus
    let manager: ConnectionManager
    let contractVersion: String

    package init(bus: any EventBus, manager: ConnectionManager, contractVersion: String) {
        self.bus = bus
        self.manager = manager
        self.contractVersion = contractVersion
    }

    package func report() -> HealthReport {
        var components = bus.health()
        components["websocket"] = ComponentHealth(status: .healthy, detail: "\(manager.count) open connections")
        let worst = components.values.map(\.status).max() ?? .healthy
        // A broker outage leaves WebSockets working: the gateway is degraded, not down.
        let overall: ComponentHealth.Status = components["websocket"]?.status == .unhealthy ? .unhealthy : (worst == .healthy ? .healthy : .degraded)
        return HealthReport(
            status: overall,
            version: GatewayVersion.current,
            wsContractVersion: contractVersion,
            timestamp: FrameEncoder.timestamp(),
            components: components,
            summary: .init(
                healthy: components.values.filter { $0.status == .healthy }.count,
                unhealthy: components.values.filter { $0.status != .healthy }.count,
                total: components.count
            )
        )
    }
}
