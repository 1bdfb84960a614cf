import GeneratedMessages

/// The answers to a known `request_data`: the last-known data of a topic, or the gateway's health.
struct RequestedData: Sendable {
    let lastKnown: LastKnownData
    let health: GatewayHealth

    func data(for dataType: DataType) -> [String: JSONValue] {
        switch dataType {
        case .agentStatus:
            lastKnown.data(for: "agent_update") ?? ["agents": [], "summary": ["total": 0, "active": 0]]
        case .coordinationMetrics:
            lastKnown.data(for: "coordination_update") ?? ["success_rate": nil, "trend": "unknown"]
        case .systemHealth, .unknown:
            health.report().jsonObject
        }
    }
}
