import GeneratedMessages

/// What a client is given on request: the last-known data of its topics (the dashboard's greeting),
/// and the answers to a known `request_data` (last-known data, or the gateway's health).
struct RequestedData: Sendable {
    let lastKnown: LastKnownData
    let health: GatewayHealth

    func snapshot(for topics: Set<Subscription>) -> [String: [String: JSONValue]] {
        lastKnown.snapshot(for: topics)
    }

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
