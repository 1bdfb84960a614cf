import GeneratedMessages
import HiveOpsGateway
import NIOCore
import TestSupport
import Testing

@Suite struct SubscriptionRulesTests {
    @Test func resolve() {
        let resolution = SubscriptionRules.resolve(["b", "agents", "a", "b", "project_index"])
        #expect(resolution.valid == [.agents, .projectIndex])
        #expect(resolution.invalid == ["a", "b"])
        #expect(ErrorText.invalidSubscriptions(resolution.invalid) == "Invalid subscription(s): a, b")
    }

    @Test func queryNames() {
        #expect(SubscriptionRules.names(fromQuery: " agents, ,tasks,") == ["agents", "tasks"])
    }

    @Test func endpointDefaults() {
        #expect(DashboardEndpoint.dashboard.defaultSubscriptions == [.agents, .coordination, .tasks, .system, .projectIndex])
        #expect(DashboardEndpoint.agents.defaultSubscriptions == [.agents, .system])
        #expect(DashboardEndpoint.coordination.defaultSubscriptions == [.coordination, .alerts, .system])
        #expect(DashboardEndpoint.tasks.defaultSubscriptions == [.tasks, .agents])
        #expect(DashboardEndpoint.system.defaultSubscriptions == [.system, .alerts])
        #expect(DashboardEndpoint.tasks.clientType == .taskMonitor)
    }
}
