package import GeneratedMessages

/// The WebSocket paths of the HiveOps dashboard API, each with the client type
/// it serves and the topics a connection starts with.
package enum DashboardEndpoint: String, CaseIterable, Sendable {
    case dashboard
    case agents
    case coordination
    case tasks
    case system

    package var path: String { "/api/dashboard/ws/\(rawValue)" }

    /// The endpoint served at `path`, if any.
    package init?(path: String) {
        let prefix = "/api/dashboard/ws/"
        guard path.hasPrefix(prefix) else { return nil }
        self.init(rawValue: String(path.dropFirst(prefix.count)))
    }

    package var clientType: ClientType {
        switch self {
        case .dashboard: .fullDashboard
        case .agents: .agentMonitor
        case .coordination: .coordinationMonitor
        case .tasks: .taskMonitor
        case .system: .systemMonitor
        }
    }

    package var defaultSubscriptions: Set<Subscription> {
        switch self {
        case .dashboard: [.agents, .coordination, .tasks, .system, .projectIndex]
        case .agents: [.agents, .system]
        case .coordination: [.coordination, .alerts, .system]
        case .tasks: [.tasks, .agents]
        case .system: [.system, .alerts]
        }
    }

    /// Only the full dashboard takes a `subscriptions` query and gets `dashboard_initialized`.
    package var isDashboard: Bool { self == .dashboard }
}
