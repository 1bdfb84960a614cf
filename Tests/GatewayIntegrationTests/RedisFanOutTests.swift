import Foundation
import GatewayClient
import GeneratedMessages
import HiveOpsGateway
import NIOCore
import NIOPosix
import RedisClient
import TestSupport
import Testing

/// Redis fan-out against a real redis-server: routing per channel, invalid payloads, recovery.
@Suite(.serialized) struct RedisFanOutTests {
    static func configuration(_ redis: RedisServer) -> GatewayConfiguration {
        TestGateway.configuration {
            var settings = RedisEventBus.Settings(url: RedisURL(host: "127.0.0.1", port: redis.port))
            settings.backoffInitial = .milliseconds(100)
            settings.backoffCap = .seconds(1)
            settings.pingInterval = .milliseconds(500)
            settings.timeout = .milliseconds(500)
            $0.redis = settings
        }
    }

    struct Route: Sendable, CustomTestStringConvertible {
        var channel: String
        var payload: String
        var endpoint: DashboardEndpoint
        var expectedType: String
        var expectedData: JSONValue
        var expectedCorrelationId: String?
        var testDescription: String { channel }
    }

    static let routes = [
        Route(
            channel: "system_events",
            payload:
                #"{"message_id":"m-1","from_agent":"orchestrator","to_agent":"broadcast","type":"maintenance","payload":{},"correlation_id":"c-sys"}"#,
            endpoint: .system,
            expectedType: "system_event",
            expectedData: [
                "message_id": "m-1", "from_agent": "orchestrator", "to_agent": "broadcast", "type": "maintenance", "payload": [:],
                "correlation_id": "c-sys",
            ],
            expectedCorrelationId: "c-sys"
        ),
        Route(
            channel: "agent_events:agent-7",
            payload: #"{"message_id":"m-2","from_agent":"agent-7","type":"heartbeat"}"#,
            endpoint: .agents,
            expectedType: "agent_event",
            expectedData: ["message_id": "m-2", "from_agent": "agent-7", "type": "heartbeat"],
            expectedCorrelationId: nil
        ),
        Route(
            channel: "project_index:websocket_events",
            payload: #"{"event":{"type":"analysis_progress","project_id":"p-1","correlation_id":"c-pi"},"subscribers":[]}"#,
            endpoint: .dashboard,
            expectedType: "project_index_event",
            expectedData: ["type": "analysis_progress", "project_id": "p-1", "correlation_id": "c-pi"],
            expectedCorrelationId: "c-pi"
        ),
        Route(
            channel: "hiveops:ws:broadcast",
            payload: #"{"subscription":"tasks","type":"task_update","data":{"task_id":"t-9","state":"done"},"correlation_id":"c-task"}"#,
            endpoint: .tasks,
            expectedType: "task_update",
            expectedData: ["task_id": "t-9", "state": "done"],
            expectedCorrelationId: "c-task"
        ),
    ]

    @Test(arguments: routes)
    func routing(_ route: Route) async throws {
        let redis = try await RedisServer()
        try await TestGateway.with(Self.configuration(redis)) { gateway in
            try await RedisListenerProbe.waitUntilSubscribed(port: gateway.port)
            let (client, _) = try await gateway.connectAndGreet(route.endpoint)
            #expect(try await redis.publish(route.channel, route.payload) == 1, "one listener")
            let text = try await client.receiveText()
            // The generated decoder validates the frame.
            let message = try JSONDecoder().decode(ServerMessage.self, from: Data(text.utf8))
            #expect(message.type == route.expectedType)
            let object = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            #expect(object["data"] == route.expectedData)
            if let id = route.expectedCorrelationId { #expect(object["correlation_id"]?.stringValue == id) }
            #expect(try await gateway.metric("hiveops_ws_messages_sent_total") >= 2)
            // The event's wait from the Redis read to its decoding, recorded before its frame was written.
            let exposition = try await gateway.request("GET", "/metrics").text
            #expect(exposition.contains(#"hiveops_ws_broadcast_stage_seconds_count{stage="wait"} 1"#))
            #expect(exposition.contains("# TYPE hiveops_ws_broadcast_fanout_seconds histogram"))
        }
    }

    @Test func invalidPayloadsAreCountedAndNeverForwarded() async throws {
        let redis = try await RedisServer()
        try await TestGateway.with(Self.configuration(redis)) { gateway in
            try await RedisListenerProbe.waitUntilSubscribed(port: gateway.port)
            let (client, _) = try await gateway.connectAndGreet(.dashboard, query: "subscriptions=agents,system,tasks,project_index,alerts")
            let invalid = [
                ("system_events", "not json"),
                ("system_events", "[1,2]"),
                ("hiveops:ws:broadcast", #"{"subscription":"weather","type":"agent_update","data":{}}"#),
                ("hiveops:ws:broadcast", #"{"subscription":"agents","type":"pong","data":{}}"#),
                ("hiveops:ws:broadcast", #"{"subscription":"agents","type":"agent_update","data":"x"}"#),
                ("project_index:websocket_events", #"{"subscribers":[]}"#),
            ]
            for (channel, payload) in invalid { _ = try await redis.publish(channel, payload) }
            // A project index event for someone else is skipped, not invalid.
            _ = try await redis.publish("project_index:websocket_events", #"{"event":{"type":"x"},"subscribers":["somebody-else"]}"#)
            _ = try await redis.publish("system_events", #"{"marker":"after"}"#)
            guard case .systemEvent(let event) = try await client.receiveMessage() else { throw TestFailure("only the valid event arrives") }
            #expect(event.data["marker"] == "after")
            let metrics = try await gateway.request("GET", "/metrics").text
            #expect(metrics.contains("hiveops_redis_invalid_events_total 6"))
            #expect(metrics.contains("hiveops_redis_messages_received_total 8"))
        }
    }

    @Test func restBroadcastGoesThroughRedisAndKeepsWorkingWithoutIt() async throws {
        let redis = try await RedisServer()
        try await TestGateway.with(Self.configuration(redis)) { gateway in
            try await RedisListenerProbe.waitUntilSubscribed(port: gateway.port)
            let (client, _) = try await gateway.connectAndGreet(.agents)
            let viaRedis = try await gateway.request(
                "POST",
                "/api/dashboard/websocket/broadcast?subscription=agents&message_type=agent_update",
                body: #"{"n":1}"#
            )
            // Through Redis: this node's subscribers when accepted, and the nodes PUBLISH reached.
            #expect(try viaRedis.json()["clients_reached"] == 1, "an integer with Redis too")
            #expect(try viaRedis.json()["nodes_reached"] == 1, "one listening node")
            guard case .update = try await client.receiveMessage() else { throw TestFailure("update via Redis") }

            redis.kill()
            let local = try await gateway.request(
                "POST",
                "/api/dashboard/websocket/broadcast?subscription=agents&message_type=agent_update",
                body: #"{"n":2}"#
            )
            #expect(try local.json()["clients_reached"] == 1, "delivered locally while Redis is away")
            #expect(try local.json()["nodes_reached"] == 1, "this node alone")
            guard case .update(let update) = try await client.receiveMessage() else { throw TestFailure("local update") }
            #expect(update.data["n"] == 2)
        }
    }

    /// Redis stalls (DEBUG SLEEP) with the REST broadcast's PUBLISH in its socket: the reply times
    /// out, the gateway delivers locally, then Redis wakes and executes the PUBLISH. The copy that
    /// comes back through the listener must not reach the client a second time.
    @Test func aPublishWhoseReplyTimedOutIsDeliveredOnce() async throws {
        let redis = try await RedisServer(extraArguments: ["--enable-debug-command", "yes"])
        var configuration = Self.configuration(redis)
        configuration.redis?.timeout = .milliseconds(300)
        configuration.redis?.pingInterval = .seconds(60)
        try await TestGateway.with(configuration) { gateway in
            try await RedisListenerProbe.waitUntilSubscribed(port: gateway.port)
            let (client, _) = try await gateway.connectAndGreet(.agents)
            // Warm the publisher connection, so that the PUBLISH below is written before Redis sleeps.
            _ = try await gateway.request(
                "POST",
                "/api/dashboard/websocket/broadcast?subscription=agents&message_type=agent_update",
                body: #"{"n":0}"#
            )
            guard case .update = try await client.receiveMessage() else { throw TestFailure("warm-up update") }

            let sleeper = try await redis.connect()
            defer { sleeper.close() }
            async let slept = sleeper.command(["DEBUG", "SLEEP", "1.5"], timeout: .seconds(5))
            try await Task.sleep(for: .milliseconds(100))
            let local = try await gateway.request(
                "POST",
                "/api/dashboard/websocket/broadcast?subscription=agents&message_type=agent_update",
                body: #"{"n":1}"#,
                headers: ["X-Correlation-ID": "once-1"]
            )
            #expect(try local.json()["clients_reached"] == 1, "the reply timed out: delivered on this node")
            _ = try await slept
            // Redis has executed the PUBLISH by now; a marker published after it arrives after its copy.
            _ = try await redis.publish("hiveops:ws:broadcast", #"{"subscription":"agents","type":"agent_update","data":{"n":2}}"#)
            var seen: [JSONValue] = []
            while seen.last != 2 {
                guard case .update(let update) = try await client.receiveMessage(timeout: .seconds(5)) else { throw TestFailure("update") }
                seen.append(update.data["n"] ?? .null)
            }
            #expect(seen == [1, 2], "the event once, then the marker")
        }
    }

    @Test func sigkillThenRestartRecoversWithinTheBackoffCap() async throws {
        let redis = try await RedisServer()
        try await TestGateway.with(Self.configuration(redis)) { gateway in
            try await RedisListenerProbe.waitUntilSubscribed(port: gateway.port)
            let (client, _) = try await gateway.connectAndGreet(.system)
            redis.kill()
            // The gateway stays up and serving; health says degraded with the redis component down.
            var health = try await gateway.request("GET", "/health")
            let deadline = ContinuousClock.now + .seconds(5)
            while try health.json()["status"] != "degraded", ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                health = try await gateway.request("GET", "/health")
            }
            #expect(health.status == 200)
            let report = try health.json()
            #expect(report["status"] == "degraded")
            #expect(report["components"]?["redis"]?["status"] == "unhealthy")
            #expect(report["components"]?["redis"]?["last_error"]?.stringValue?.isEmpty == false)
            try await client.send(.ping(Ping(correlationId: "during-outage")))
            guard case .pong = try await client.receiveMessage() else { throw TestFailure("ping during the outage") }
            #expect(try await gateway.metric("hiveops_ws_connections") == 1)

            try await redis.start()
            let recovery = try await RedisListenerProbe.waitUntilSubscribed(port: gateway.port)
            #expect(recovery < .seconds(1) + .milliseconds(1_500), "back within the backoff cap (plus connect and subscribe)")
            _ = try await redis.publish("system_events", #"{"after":"restart"}"#)
            guard case .systemEvent(let event) = try await client.receiveMessage() else { throw TestFailure("event after the restart") }
            #expect(event.data["after"] == "restart")
            let metrics = try await gateway.request("GET", "/metrics").text
            #expect(metrics.contains("hiveops_redis_connected 1.0"))
            #expect(!metrics.contains("hiveops_redis_reconnects_total 0\n"))
        }
    }

    @Test func clientKillTypePubsubIsSurvived() async throws {
        let redis = try await RedisServer()
        try await TestGateway.with(Self.configuration(redis)) { gateway in
            try await RedisListenerProbe.waitUntilSubscribed(port: gateway.port)
            let (client, _) = try await gateway.connectAndGreet(.system)
            let admin = try await redis.connect()
            defer { admin.close() }
            #expect(try await admin.command(["CLIENT", "KILL", "TYPE", "pubsub"]) == .integer(1))
            // Publish until the re-subscribed listener receives one (bounded): no message may need more than the cap.
            let deadline = ContinuousClock.now + .seconds(5)
            var received: ServerMessage?
            while received == nil, ContinuousClock.now < deadline {
                if try await redis.publish("system_events", #"{"after":"client-kill"}"#) > 0 {
                    received = try await client.receiveMessage()
                } else {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            guard case .systemEvent(let event)? = received else { throw TestFailure("no event after CLIENT KILL") }
            #expect(event.data["after"] == "client-kill")
        }
    }

    /// Fault injection a real Redis cannot give: a server that accepts TCP and never answers.
    /// An in-process NIO listener plays it.
    @Test func aRedisThatNeverAnswersIsDetected() async throws {
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { _ in MultiThreadedEventLoopGroup.singleton.next().makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { silent.close(promise: nil) }
        var configuration = TestGateway.configuration()
        var settings = RedisEventBus.Settings(url: RedisURL(host: "127.0.0.1", port: silent.localAddress!.port!))
        settings.timeout = .milliseconds(300)
        settings.backoffCap = .milliseconds(300)
        configuration.redis = settings
        try await TestGateway.with(configuration) { gateway in
            let deadline = ContinuousClock.now + .seconds(5)
            var report = try await gateway.request("GET", "/health").json()
            while report["components"]?["redis"]?["last_error"]?.stringValue?.contains("timed out") != true, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                report = try await gateway.request("GET", "/health").json()
            }
            #expect(report["status"] == "degraded")
            #expect(report["components"]?["redis"]?["last_error"]?.stringValue?.contains("timed out waiting for") == true)
            let (client, _) = try await gateway.connectAndGreet(.system)
            try await client.send(.ping(Ping()))
            guard case .pong = try await client.receiveMessage() else { throw TestFailure("still serving") }
        }
    }

    @Test func tenThousandEventsArriveAllInOrder() async throws {
        let redis = try await RedisServer()
        try await TestGateway.with(Self.configuration(redis)) { gateway in
            try await RedisListenerProbe.waitUntilSubscribed(port: gateway.port)
            let (client, _) = try await gateway.connectAndGreet(.system)
            let publisher = try await redis.connect()
            defer { publisher.close() }
            let count = 10_000
            let commands = (1...count).map { ["PUBLISH", "system_events", #"{"sequence":\#($0)}"#] }
            let replies = try await publisher.pipeline(commands)
            #expect(replies.allSatisfy { $0 == .integer(1) })
            for expected in 1...count {
                let message = try await client.receiveMessage()
                guard case .systemEvent(let event) = message else { throw TestFailure("event \(expected): \(message)") }
                guard event.data["sequence"] == .integer(expected) else {
                    Issue.record("expected \(expected), got \(String(describing: event.data["sequence"]))")
                    return
                }
            }
            #expect(try await gateway.request("GET", "/metrics").text.contains("hiveops_redis_messages_received_total 10000"))
        }
    }
}
