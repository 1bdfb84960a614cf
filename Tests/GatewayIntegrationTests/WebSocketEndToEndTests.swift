import Foundation
import GatewayClient
import GeneratedMessages
import HiveOpsGateway
import NIOCore
import NIOWebSocket
import TestSupport
import Testing

/// The WebSocket rules end to end: a real gateway on loopback, real WebSocket clients.
@Suite struct WebSocketEndToEndTests {
    @Test(arguments: DashboardEndpoint.allCases)
    func greetingOnEveryPath(_ endpoint: DashboardEndpoint) async throws {
        try await TestGateway.with { gateway in
            let client = try await gateway.connect(endpoint, query: "connection_id=dash-\(endpoint.rawValue)")
            guard case .connectionEstablished(let established) = try await client.receiveMessage() else {
                throw TestFailure("first frame")
            }
            #expect(established.connectionId == "dash-\(endpoint.rawValue)")
            #expect(established.subscriptions == SubscriptionRules.sorted(endpoint.defaultSubscriptions))
            #expect(established.contractVersion == "1.2.0")
            #expect(established.timestamp.hasSuffix("Z"))
            if endpoint.isDashboard {
                guard case .dashboardInitialized(let initialized) = try await client.receiveMessage() else {
                    throw TestFailure("second frame")
                }
                #expect(initialized.connectionInfo.clientType == .fullDashboard)
                #expect(initialized.connectionInfo.connectionId == "dash-dashboard")
                #expect(initialized.snapshot == [:])
            }
            try await client.send(.ping(Ping(correlationId: "p-1")))
            guard case .pong(let pong) = try await client.receiveMessage() else { throw TestFailure("pong") }
            #expect(pong.correlationId == "p-1")
        }
    }

    @Test func queryChoosesTopicsAndReportsUnknownOnes() async throws {
        try await TestGateway.with { gateway in
            let (client, established) = try await gateway.connectAndGreet(query: "subscriptions=tasks,bogus,alerts,also_bad")
            #expect(established.subscriptions == [.alerts, .tasks])
            let error = try await client.receiveMessage().errorMessage
            #expect(error?.message == "Invalid subscription(s): also_bad, bogus")
            #expect(error?.code == .invalidSubscription)
        }
    }

    @Test func snapshotCarriesTheLastUpdateOfSubscribedTopics() async throws {
        try await TestGateway.with { gateway in
            let agents = try await gateway.request(
                "POST",
                "/api/dashboard/websocket/broadcast?subscription=agents&message_type=agent_update",
                body: #"{"agents":[{"id":"a-1"}],"summary":{"total":1,"active":1}}"#
            )
            #expect(agents.status == 200)
            _ = try await gateway.request(
                "POST",
                "/api/dashboard/websocket/broadcast?subscription=tasks&message_type=task_update",
                body: #"{"task":"t"}"#
            )
            let client = try await gateway.connect(.dashboard, query: "subscriptions=agents")
            _ = try await client.receiveMessage()
            guard case .dashboardInitialized(let initialized) = try await client.receiveMessage() else { throw TestFailure("second frame") }
            #expect(initialized.snapshot?.keys.sorted() == ["agent_update"])
            #expect(initialized.snapshot?["agent_update"]?["summary"] == ["total": 1, "active": 1])

            try await client.send(.requestData(RequestData(dataType: .agentStatus, correlationId: "r-1")))
            guard case .dataResponse(let response) = try await client.receiveMessage() else { throw TestFailure("data_response") }
            #expect(response.correlationId == "r-1")
            #expect(response.data["agents"] == [["id": "a-1"]])
        }
    }

    @Test func requestDataAnswers() async throws {
        try await TestGateway.with { gateway in
            let (client, _) = try await gateway.connectAndGreet(.agents)
            try await client.send(.requestData(RequestData(dataType: .agentStatus)))
            guard case .dataResponse(let agents) = try await client.receiveMessage() else { throw TestFailure("agent_status") }
            #expect(agents.data == ["agents": [], "summary": ["total": 0, "active": 0]])
            try await client.send(.requestData(RequestData(dataType: .systemHealth)))
            guard case .dataResponse(let health) = try await client.receiveMessage() else { throw TestFailure("system_health") }
            #expect(health.data["overall_status"] == "healthy")
            #expect(health.data["components"]?["websocket"]?["status"] == "healthy")
            try await client.send(text: #"{"type":"request_data","data_type":"weather","correlation_id":"w"}"#)
            guard case .dataError(let error) = try await client.receiveMessage() else { throw TestFailure("data_error") }
            #expect(error.dataType == "weather")
            #expect(error.error == "Unknown data type: weather")
            #expect(error.correlationId == "w")
        }
    }

    @Test func subscribeAndUnsubscribe() async throws {
        try await TestGateway.with { gateway in
            let (client, _) = try await gateway.connectAndGreet(.agents)
            try await client.send(text: #"{"type":"subscribe","subscriptions":["tasks","nope","tasks"],"correlation_id":"s-1"}"#)
            let error = try await client.receiveMessage().errorMessage
            #expect(error?.message == "Invalid subscription(s): nope")
            #expect(error?.correlationId == "s-1")
            guard case .subscriptionUpdated(let updated) = try await client.receiveMessage() else { throw TestFailure("subscription_updated") }
            #expect(updated.subscriptions == [.agents, .system, .tasks])
            #expect(updated.correlationId == "s-1")
            try await client.send(text: #"{"type":"unsubscribe","subscriptions":["agents","unknown"]}"#)
            guard case .subscriptionUpdated(let after) = try await client.receiveMessage() else { throw TestFailure("subscription_updated") }
            #expect(after.subscriptions == [.system, .tasks])
            // Not a list of strings: named in the HiveOps error, never a new error class; the rest stays.
            try await client.send(text: #"{"type":"subscribe","subscriptions":7}"#)
            let mistyped = try await client.receiveMessage().errorMessage
            #expect(mistyped?.message == "Invalid subscription(s): 7")
            #expect(mistyped?.code == .invalidSubscription)
            guard case .subscriptionUpdated(let unchanged) = try await client.receiveMessage() else { throw TestFailure("subscription_updated") }
            #expect(unchanged.subscriptions == [.system, .tasks])
            let stats = try await gateway.request("GET", "/api/dashboard/websocket/stats").json()
            #expect(stats["subscription_counts"]?["tasks"] == 1)
            #expect(stats["subscription_counts"]?["agents"] == 0)
        }
    }

    @Test func malformedInputIsAnErrorAndTheConnectionStaysUsable() async throws {
        try await TestGateway.with { gateway in
            let (client, _) = try await gateway.connectAndGreet(.system)
            try await client.send(text: "{not json")
            #expect(try await client.receiveMessage().errorMessage?.message == "Invalid JSON message format")
            try await client.send(text: "[1,2,3]")
            #expect(try await client.receiveMessage().errorMessage?.code == .invalidMessage)
            try await client.send(text: #"{"type":"launch_missiles"}"#)
            #expect(try await client.receiveMessage().errorMessage?.message == "Unknown message type: launch_missiles")
            try await client.send(frame: WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: [0, 1, 2])))
            #expect(try await client.receiveMessage().errorMessage?.code == .binaryNotSupported)
            // One byte over the limit, measured on the raw bytes.
            let padding = String(repeating: "x", count: 65_536 - #"{"type":"ping","pad":""}"#.utf8.count + 1)
            try await client.send(text: #"{"type":"ping","pad":"\#(padding)"}"#)
            #expect(try await client.receiveMessage().errorMessage?.message == "Message too large")
            try await client.send(text: #"{"type":"ping","correlation_id":"still-here"}"#)
            guard case .pong(let pong) = try await client.receiveMessage() else { throw TestFailure("pong") }
            #expect(pong.correlationId == "still-here")
        }
    }

    @Test func aFrameBeyondTheHardCeilingCloses1009() async throws {
        try await TestGateway.with { gateway in
            let (client, _) = try await gateway.connectAndGreet(.system)
            try await client.send(text: String(repeating: "x", count: 1_048_577))
            guard case .close(let code, _) = try await client.receive() else { throw TestFailure("close frame") }
            #expect(code == 1009)
        }
    }

    @Test func floodOfSixtyPingsGivesFortyPongsAndOneNotice() async throws {
        try await TestGateway.with { gateway in
            let (client, _) = try await gateway.connectAndGreet(.system)
            try await client.send(texts: Array(repeating: #"{"type":"ping"}"#, count: 60))
            var pongs = 0
            var notices: [ErrorMessage] = []
            while pongs + notices.count < 41 {
                switch try await client.receiveMessage() {
                case .pong: pongs += 1
                case .error(let error): notices.append(error)
                default: throw TestFailure("unexpected frame")
                }
            }
            #expect(pongs == 40)
            #expect(notices.map(\.message) == ["Rate limit exceeded"])
            #expect(notices.first?.code == .rateLimited)
            #expect((notices.first?.retryAfterMs ?? 0) > 0)
            // Nothing else comes: the other 19 were dropped.
            await #expect(throws: WebSocketClient.ClientError.timedOut) { try await client.receive(timeout: .milliseconds(300)) }
            #expect(try await gateway.metric("hiveops_ws_messages_dropped_rate_limit_total") == 20)
            // Tokens come back at 20 a second: after a quiet moment the client is served again.
            try await Task.sleep(for: .milliseconds(200))
            try await client.send(.ping(Ping(correlationId: "after")))
            guard case .pong(let pong) = try await client.receiveMessage() else { throw TestFailure("pong after quiet") }
            #expect(pong.correlationId == "after")
        }
    }

    @Test func idleConnectionGetsANoticeAndIsReallyClosed() async throws {
        try await TestGateway.with(TestGateway.configuration { $0.timeouts.idle = .seconds(1) }) { gateway in
            let (client, _) = try await gateway.connectAndGreet(.system)
            guard case .disconnectNotice(let notice) = try await client.receiveMessage(timeout: .seconds(5)) else { throw TestFailure("notice") }
            #expect(notice.reason == .idleTimeout)
            #expect(try await client.receive() == .close(code: 1000, reason: "idle_timeout"))
            #expect(try await client.receive() == .disconnected)
            #expect(try await gateway.metric("hiveops_ws_idle_disconnects_total") == 1)
            #expect(try await gateway.metric("hiveops_ws_connections") == 0)
        }
    }

    @Test func adminDisconnect() async throws {
        try await TestGateway.with { gateway in
            let (client, established) = try await gateway.connectAndGreet(.system, query: "connection_id=ops-1")
            #expect(established.connectionId == "ops-1")
            let missing = try await gateway.request("POST", "/api/dashboard/websocket/disconnect/nobody?reason=x")
            #expect(missing.status == 404)
            let result = try await gateway.request("POST", "/api/dashboard/websocket/disconnect/ops-1?reason=maintenance%20window")
            #expect(result.status == 200)
            guard case .disconnectNotice(let notice) = try await client.receiveMessage() else { throw TestFailure("notice") }
            #expect(notice.reason == .admin)
            #expect(notice.detail == "maintenance window")
            #expect(try await client.receive() == .close(code: 1000, reason: "admin"))
            #expect(try await client.receive() == .disconnected)
        }
    }

    @Test func aReusedConnectionIdReplacesTheOldConnection() async throws {
        try await TestGateway.with { gateway in
            let (first, _) = try await gateway.connectAndGreet(.system, query: "connection_id=same")
            let (second, _) = try await gateway.connectAndGreet(.system, query: "connection_id=same")
            guard case .disconnectNotice(let notice) = try await first.receiveMessage() else { throw TestFailure("notice") }
            #expect(notice.reason == .replaced)
            #expect(notice.reconnect?.allowed == false)
            #expect(try await first.receive() == .close(code: 1000, reason: "replaced"))
            try await second.send(.ping(Ping()))
            guard case .pong = try await second.receiveMessage() else { throw TestFailure("the new connection works") }
            #expect(gateway.application.manager.count == 1)
        }
    }
}
