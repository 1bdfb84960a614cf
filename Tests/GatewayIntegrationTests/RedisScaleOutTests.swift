import Foundation
import GatewayClient
import GeneratedMessages
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Two gateway processes on one Redis serve one audience.
@Suite(.serialized) struct RedisScaleOutTests {
    static func get(_ port: Int, _ path: String) async throws -> JSONValue {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return try JSONDecoder().decode(JSONValue.self, from: data)
    }

    static func sent(_ port: Int) async throws -> Int {
        guard
            case .integer(let value) = try await get(port, "/api/dashboard/metrics/websockets?format=json")["metrics"]?[
                "hiveops_ws_messages_sent_total"
            ]
        else {
            throw TestFailure("no messages_sent_total")
        }
        return value
    }

    @Test func anEventPublishedOnceReachesTheClientsOfBothNodes() async throws {
        let redis = try await RedisServer()
        let nodeA = try await GatewayProcess(arguments: ["--redis-url", redis.url])
        let nodeB = try await GatewayProcess(arguments: ["--redis-url", redis.url])
        try await RedisListenerProbe.waitUntilSubscribed(port: nodeA.port)
        try await RedisListenerProbe.waitUntilSubscribed(port: nodeB.port)
        var clientsA: [WebSocketClient] = []
        var clientsB: [WebSocketClient] = []
        for _ in 0..<3 { clientsA.append(try await WebSocketClient.connect(port: nodeA.port, path: "/api/dashboard/ws/system")) }
        for _ in 0..<2 { clientsB.append(try await WebSocketClient.connect(port: nodeB.port, path: "/api/dashboard/ws/system")) }
        for client in clientsA + clientsB { _ = try await client.receiveMessage() }
        let beforeA = try await Self.sent(nodeA.port)
        let beforeB = try await Self.sent(nodeB.port)

        #expect(try await redis.publish("system_events", #"{"message_id":"once","correlation_id":"c-once"}"#) == 2, "one listener per node")
        for client in clientsA + clientsB {
            guard case .systemEvent(let event) = try await client.receiveMessage() else { throw TestFailure("system_event") }
            #expect(event.correlationId == "c-once")
        }
        #expect(try await Self.sent(nodeA.port) == beforeA + 3)
        #expect(try await Self.sent(nodeB.port) == beforeB + 2)

        // A REST broadcast on node A reaches node B's clients too.
        var request = URLRequest(
            url: URL(string: "http://127.0.0.1:\(nodeA.port)/api/dashboard/websocket/broadcast?subscription=system&message_type=system_update")!
        )
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"from":"node-a"}"#.utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        let result = try JSONDecoder().decode(JSONValue.self, from: data)
        #expect(result["success"] == true)
        #expect(result["clients_reached"] == 3, "node A's own subscribers")
        #expect(result["nodes_reached"] == 2, "both nodes' listeners, from PUBLISH's reply")
        for client in clientsA + clientsB {
            guard case .update(let update) = try await client.receiveMessage() else { throw TestFailure("system_update") }
            #expect(update.data["from"] == "node-a")
            #expect(update.correlationId == result["correlation_id"]?.stringValue)
        }
        #expect(try await Self.sent(nodeA.port) == beforeA + 6)
        #expect(try await Self.sent(nodeB.port) == beforeB + 4)
        nodeA.signal(SIGTERM)
        nodeB.signal(SIGTERM)
        #expect(try await nodeA.waitForExit(timeout: .seconds(10)) == 0)
        #expect(try await nodeB.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func aMalformedRedisURLIsRefusedWithoutEchoingThePassword() throws {
        let result = try GatewayProcess.runToCompletion(["--redis-url", "redis://ops:hunter2@cache"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--redis-url (REDIS_URL)"))
        #expect(result.stderr.contains("a port is required"))
        #expect(!result.stderr.contains("hunter2"))
    }
}
