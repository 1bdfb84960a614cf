import GeneratedMessages
import HiveOpsGateway
import TestSupport
import Testing

/// A dashboard connection's protocol, in an `EmbeddedChannel`: the greeting, the manager's record of
/// its topics, data requests, and a reused connection id.
@Suite struct ConnectionSessionTests {
    @Test func theDashboardGreetsWithTheLastKnownDataOfItsTopicsThenTheQueryErrors() throws {
        let harness = SessionHarness()
        harness.router.deliver(try BroadcastEvent(type: "agent_update", subscription: "agents", data: ["n": 7], correlationId: "e-1"))
        let connection = try EmbeddedConnection(.dashboard, subscriptions: "agents,weather", harness: harness)
        let messages = try connection.writtenMessages()
        #expect(messages.map(\.type) == ["connection_established", "dashboard_initialized", "error"])
        guard case .connectionEstablished(let established) = messages[0], case .dashboardInitialized(let initialized) = messages[1] else {
            throw TestFailure("the greeting")
        }
        #expect(established.subscriptions == [.agents])
        #expect(initialized.snapshot?["agent_update"] == ["n": 7])
        #expect(messages[2].errorMessage?.message == "Invalid subscription(s): weather")
        connection.finish()
    }

    @Test func subscribeAndUnsubscribeChangeWhatTheManagerDeliversAndFinishForgetsTheConnection() throws {
        let harness = SessionHarness()
        let connection = try EmbeddedConnection(.dashboard, subscriptions: "agents", harness: harness)
        _ = try connection.written()
        let alert = try BroadcastEvent(type: "critical_alert", subscription: "alerts", data: ["alerts": [["id": "disk-full"]]], correlationId: "a-1")
        #expect(harness.router.deliver(alert) == 0)

        try connection.send(#"{"type":"subscribe","subscriptions":["alerts"]}"#)
        #expect(try connection.writtenKinds() == ["subscription_updated"])
        #expect(harness.router.deliver(alert) == 1)
        #expect(try connection.writtenKinds() == ["critical_alert"])

        try connection.send(#"{"type":"unsubscribe","subscriptions":["alerts"]}"#)
        #expect(try connection.writtenKinds() == ["subscription_updated"])
        #expect(harness.router.deliver(alert) == 0)

        try connection.close(1000)
        #expect(harness.manager.count == 0)
    }

    @Test func aDataRequestIsAnsweredWithItsCorrelationId() throws {
        let harness = SessionHarness()
        let connection = try EmbeddedConnection(.agents, harness: harness)
        _ = try connection.written()
        try connection.send(#"{"type":"request_data","data_type":"agent_status","correlation_id":"r-1"}"#)
        guard case .dataResponse(let response) = try connection.writtenMessages().first else { throw TestFailure("data_response") }
        #expect(response.dataType == .agentStatus)
        #expect(response.correlationId == "r-1")
        #expect(response.data["agents"] == [])
        connection.finish()
    }

    @Test func aReusedConnectionIdReplacesThePreviousConnection() throws {
        let harness = SessionHarness()
        let first = try EmbeddedConnection(.agents, query: "connection_id=desk-1", harness: harness)
        _ = try first.written()
        let second = try EmbeddedConnection(.agents, query: "connection_id=desk-1", harness: harness)
        guard case .connectionEstablished(let established) = try second.writtenMessages().first else { throw TestFailure("greeting") }
        #expect(established.connectionId == "desk-1")
        #expect(try first.writtenKinds() == ["disconnect_notice", "close 1000"])
        #expect(harness.manager.connection(id: "desk-1") != nil)
        second.finish()
    }
}
