import Foundation
import GatewayClient
import GeneratedMessages
import RedisClient
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A client that loses its network and comes back misses nothing: the real binary, a real
/// redis-server, real sockets, and a proxy that cuts the client off without the gateway knowing.
@Suite(.serialized) struct HistoryRecoveryTests {
    enum Reconnect: String, CustomStringConvertible {
        case sameNode, otherNode, restartedNode
        var description: String { rawValue }
    }

    @Test(arguments: [Reconnect.sameNode, .otherNode, .restartedNode])
    func aClientCutOffGetsEveryMissedEventOnceInOrderThenTheLiveOnes(_ reconnect: Reconnect) async throws {
        let redis = try await RedisServer()
        var nodeA = try await GatewayProcess(arguments: ["--redis-url", redis.url])
        let nodeB = try await GatewayProcess(arguments: ["--redis-url", redis.url])
        try await RedisListenerProbe.waitUntilSubscribed(port: nodeA.port)
        try await RedisListenerProbe.waitUntilSubscribed(port: nodeB.port)
        let proxy = try await BlackholeProxy(targetPort: nodeA.port)
        defer { proxy.close() }

        let client = try await WebSocketClient.connect(port: proxy.port, path: "/api/dashboard/ws/agents")
        var follower = try await StreamFollower(greeting: client.receiveMessage())
        #expect(follower.offsets == ["agents": 0, "system": 0], "a fresh history: every topic at 0")
        let publisher = Publisher(redis: redis, restPort: nodeB.port)
        for sequence in 0..<5 { try await publisher.publish(sequence) }
        for sequence in 0..<5 { #expect(try await follower.follow(client) == sequence) }

        proxy.cut()
        if reconnect == .restartedNode {
            nodeA.signal(SIGKILL)
            #expect(try await nodeA.waitForExit(timeout: .seconds(10)) != nil)
        }
        // Half through the REST endpoint of node B, half straight onto a Redis channel: every node hears all.
        for sequence in 5..<505 { try await publisher.publish(sequence) }
        if reconnect == .restartedNode {
            nodeA = try await GatewayProcess(arguments: ["--redis-url", redis.url])
            try await RedisListenerProbe.waitUntilSubscribed(port: nodeA.port)
        }
        let target = reconnect == .otherNode ? nodeB : nodeA
        // Live events keep coming while the client reconnects: the seam between replay and live is crossed.
        let live = Task { for sequence in 505..<705 { try await publisher.publish(sequence) } }
        let again = try await WebSocketClient.connect(port: target.port, path: "/api/dashboard/ws/agents?\(follower.query)")
        guard case .connectionEstablished(let established) = try await again.receiveMessage() else { throw TestFailure("greeting") }
        #expect(established.streams?["agents"]?.recovered == true)
        #expect((500..<700).contains(established.streams?["agents"]?.replayed ?? 0), "the 500 missed, and the live ones recorded by then")
        #expect(established.streams?["system"]?.recovered == true)
        #expect(established.streams?["system"]?.replayed == 0)
        for sequence in 5..<705 { #expect(try await follower.follow(again) == sequence) }
        try await live.value
        // Nothing else is queued: the next frame is the pong to this ping.
        try await again.send(.ping(Ping(correlationId: "after")))
        guard case .pong(let pong) = try await again.receiveMessage() else { throw TestFailure("a frame before the pong: a duplicate") }
        #expect(pong.correlationId == "after")
        if reconnect == .sameNode {
            // The gateway never learnt that the first connection left: it still holds it open.
            #expect(try await Self.openConnections(nodeA.port) == 2)
        }
    }

    @Test func aGapOlderThanTheHistoryAndAChangedEpochAreNotRecovered() async throws {
        let redis = try await RedisServer()
        let node = try await GatewayProcess(arguments: ["--redis-url", redis.url, "--history-size", "10"])
        try await RedisListenerProbe.waitUntilSubscribed(port: node.port)
        let client = try await WebSocketClient.connect(port: node.port, path: "/api/dashboard/ws/system")
        var follower = try await StreamFollower(greeting: client.receiveMessage())
        // A POST returns once its event is on the Redis channel, before the node has recorded it: the
        // witness hears each event only after its record, so the reconnects below see every one.
        let witness = try await WebSocketClient.connect(port: node.port, path: "/api/dashboard/ws/system")
        var witnessed = try await StreamFollower(greeting: witness.receiveMessage())
        let publisher = Publisher(redis: redis, restPort: node.port)
        try await publisher.publish(0, topic: "system", type: "system_update")
        try await publisher.publish(1, topic: "alerts", type: "critical_alert")
        #expect(try await follower.follow(client) == 0)
        #expect(try await follower.follow(client) == 1)
        try await client.close()

        // 20 alerts pass the history of 10; 3 system events do not.
        for sequence in 2..<22 { try await publisher.publish(sequence, topic: "alerts", type: "critical_alert") }
        for sequence in 22..<25 { try await publisher.publish(sequence, topic: "system", type: "system_update") }
        for sequence in 0..<25 { #expect(try await witnessed.follow(witness) == sequence) }
        let again = try await WebSocketClient.connect(port: node.port, path: "/api/dashboard/ws/system?\(follower.query)")
        guard case .connectionEstablished(let established) = try await again.receiveMessage() else { throw TestFailure("greeting") }
        #expect(established.streams?["alerts"]?.recovered == false)
        #expect(established.streams?["alerts"]?.reason == .historyExpired)
        #expect(established.streams?["alerts"]?.offset == 21, "the position the live stream goes on from")
        #expect(established.streams?["system"]?.recovered == true)
        #expect(established.streams?["system"]?.replayed == 3)
        for sequence in 22..<25 { #expect(try await follower.follow(again) == sequence) }
        try await again.close()

        // Redis restarts without persistence: the history is gone, and a new epoch begins.
        redis.kill()
        try await redis.start()
        try await RedisListenerProbe.waitUntilSubscribed(port: node.port, within: .seconds(30))
        try await publisher.publish(25, topic: "system", type: "system_update")
        #expect(try await witnessed.follow(witness) == 25)
        let third = try await WebSocketClient.connect(port: node.port, path: "/api/dashboard/ws/system?\(follower.query)")
        guard case .connectionEstablished(let afterRestart) = try await third.receiveMessage() else { throw TestFailure("greeting") }
        for topic in ["alerts", "system"] {
            #expect(afterRestart.streams?[topic]?.recovered == false)
            #expect(afterRestart.streams?[topic]?.reason == .epochChanged)
            #expect(afterRestart.streams?[topic]?.epoch != follower.epoch)
        }
        #expect(afterRestart.streams?["system"]?.offset == 1)
        let metrics = try await HTTPGet.json(node.port, "/api/dashboard/metrics/websockets?format=json")["metrics"]
        #expect(metrics?["hiveops_ws_recovery_failures_total"]?["history_expired"] == 1)
        #expect(metrics?["hiveops_ws_recovery_failures_total"]?["epoch_changed"] == 2)
        #expect(metrics?["hiveops_ws_recoveries_total"] == 1)
        #expect(metrics?["hiveops_ws_recovery_replayed_events_total"] == 3)
    }

    @Test func aSingleNodeRecoversFromMemoryAndARestartIsANewEpoch() async throws {
        var node = try await GatewayProcess()
        let proxy = try await BlackholeProxy(targetPort: node.port)
        defer { proxy.close() }
        let client = try await WebSocketClient.connect(port: proxy.port, path: "/api/dashboard/ws/agents")
        var follower = try await StreamFollower(greeting: client.receiveMessage())
        let publisher = Publisher(redis: nil, restPort: node.port)
        for sequence in 0..<3 { try await publisher.publish(sequence) }
        for sequence in 0..<3 { #expect(try await follower.follow(client) == sequence) }
        proxy.cut()
        for sequence in 3..<503 { try await publisher.publish(sequence) }
        let live = Task { for sequence in 503..<703 { try await publisher.publish(sequence) } }
        let again = try await WebSocketClient.connect(port: node.port, path: "/api/dashboard/ws/agents?\(follower.query)")
        guard case .connectionEstablished(let established) = try await again.receiveMessage() else { throw TestFailure("greeting") }
        #expect(established.streams?["agents"]?.recovered == true)
        #expect((500..<700).contains(established.streams?["agents"]?.replayed ?? 0))
        for sequence in 3..<703 { #expect(try await follower.follow(again) == sequence) }
        try await live.value
        #expect(try await Self.openConnections(node.port) == 2, "the cut connection is still open on the gateway")

        let limits = try await HTTPGet.json(node.port, "/api/dashboard/websocket/limits")
        #expect(limits["history_size"] == 1_000)
        #expect(limits["history_max_age_seconds"] == 600)
        #expect(limits["history_store"] == "memory")
        let metrics = try await HTTPGet.json(node.port, "/api/dashboard/metrics/websockets?format=json")["metrics"]
        #expect(metrics?["hiveops_ws_history_events"]?["agents"] == 703, "every agents event kept")
        #expect(metrics?["hiveops_ws_history_events"]?["system"] == 0)

        node.signal(SIGKILL)
        _ = try await node.waitForExit(timeout: .seconds(10))
        node = try await GatewayProcess()
        let third = try await WebSocketClient.connect(port: node.port, path: "/api/dashboard/ws/agents?\(follower.query)")
        guard case .connectionEstablished(let afterRestart) = try await third.receiveMessage() else { throw TestFailure("greeting") }
        #expect(afterRestart.streams?["agents"]?.recovered == false)
        #expect(afterRestart.streams?["agents"]?.reason == .epochChanged)
        #expect(afterRestart.streams?["agents"]?.offset == 0)
    }

    /// A `subscribe` that recovers, sent before the greeting's own recovery is done, is answered after it.
    @Test func aRecoveringSubscribeSentBeforeTheGreetingIsAnsweredAfterIt() async throws {
        let redis = try await RedisServer()
        var node = try await GatewayProcess(arguments: ["--redis-url", redis.url])
        try await RedisListenerProbe.waitUntilSubscribed(port: node.port)
        // The POST returns once the event is on the Redis channel; the node records it when its listener
        // hears it, so a subscriber here is how the test knows every record is done before the kill.
        let witness = try await WebSocketClient.connect(port: node.port, path: "/api/dashboard/ws/system")
        var witnessed = try await StreamFollower(greeting: witness.receiveMessage())
        let publisher = Publisher(redis: nil, restPort: node.port)
        for sequence in 0..<1_000 { try await publisher.publish(sequence, topic: "system", type: "system_update") }
        for sequence in 0..<1_000 { #expect(try await witnessed.follow(witness) == sequence) }
        // A node started after the events: the greeting's recovery reads them from Redis.
        node.signal(SIGKILL)
        _ = try await node.waitForExit(timeout: .seconds(10))
        node = try await GatewayProcess(arguments: ["--redis-url", redis.url])
        try await RedisListenerProbe.waitUntilSubscribed(port: node.port)
        let probe = try await WebSocketClient.connect(port: node.port, path: "/api/dashboard/ws/system")
        let follower = try await StreamFollower(greeting: probe.receiveMessage())
        guard let epoch = follower.epoch else { throw TestFailure("no epoch") }

        let client = try await WebSocketClient.connect(port: node.port, path: "/api/dashboard/ws/system?epoch=\(epoch)&offsets=system:0")
        try await client.send(
            text: #"{"type":"subscribe","subscriptions":["tasks"],"recover":{"epoch":"\#(epoch)","offsets":{"tasks":0}},"correlation_id":"early"}"#
        )
        guard case .connectionEstablished(let established) = try await client.receiveMessage() else {
            throw TestFailure("connection_established must come first")
        }
        #expect(established.streams?["system"]?.replayed == 1_000)
        for _ in 0..<1_000 {
            guard case .update = try await client.receiveMessage() else { throw TestFailure("the replay before the subscribe's answer") }
        }
        guard case .subscriptionUpdated(let updated) = try await client.receiveMessage() else { throw TestFailure("subscription_updated") }
        #expect(updated.correlationId == "early")
        #expect(updated.streams?["tasks"]?.recovered == true)
    }

    /// Two nodes hear every pub/sub message; each event is still recorded once.
    @Test func twoNodesRecordEveryEventOnceWhateverPathItCameBy() async throws {
        let redis = try await RedisServer()
        let arguments = ["--redis-url", redis.url, "--history-size", "20000"]
        let nodeA = try await GatewayProcess(arguments: arguments)
        let nodeB = try await GatewayProcess(arguments: arguments)
        try await RedisListenerProbe.waitUntilSubscribed(port: nodeA.port)
        try await RedisListenerProbe.waitUntilSubscribed(port: nodeB.port)
        let total = 10_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Half straight onto the Redis channel, in pipelined batches.
            group.addTask {
                let connection = try await redis.connect()
                defer { connection.close() }
                for batch in stride(from: 0, to: total / 2, by: 500) {
                    _ = try await connection.pipeline(
                        (batch..<batch + 500).map { ["PUBLISH", "system_events", #"{"seq":\#($0)}"#] }
                    )
                }
            }
            // Half through the REST endpoint, a quarter on each node, four requests in flight on each.
            for (index, port) in [nodeA.port, nodeB.port].enumerated() {
                for lane in 0..<4 {
                    group.addTask {
                        let publisher = Publisher(redis: nil, restPort: port)
                        for sequence in stride(from: total / 2 + index * 4 + lane, to: total, by: 8) {
                            try await publisher.publish(sequence, topic: "system", type: "system_update")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let connection = try await redis.connect()
        defer { connection.close() }
        // Both nodes record asynchronously: wait (bounded) until the last event is in.
        let deadline = ContinuousClock.now + .seconds(60)
        var top = 0
        while ContinuousClock.now < deadline {
            top = Int(try await connection.command(["HGET", "hiveops:history:meta", "system"]).string ?? "0") ?? 0
            if top >= total { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(top == total, "each event numbered once")
        let entries = try await connection.command(["XRANGE", "hiveops:history:stream:system", "-", "+"], timeout: .seconds(30)).elements ?? []
        #expect(entries.count == total)
        var sequences = Set<Int>()
        for (index, entry) in entries.enumerated() {
            guard let fields = entry.elements, fields.count == 2, let id = fields[0].string, let values = fields[1].elements, values.count == 4,
                let stored = values[3].string
            else { throw TestFailure("entry \(entry)") }
            #expect(id == "\(index + 1)-0", "offsets are contiguous")
            let envelope = try JSONDecoder().decode(BroadcastEnvelope.self, from: Data(stored.utf8))
            if case .integer(let sequence) = envelope.data["seq"] { sequences.insert(sequence) }
        }
        #expect(sequences == Set(0..<total), "every event once")
    }

    static func openConnections(_ port: Int) async throws -> Int {
        guard case .integer(let open) = try await HTTPGet.json(port, "/api/dashboard/websocket/stats")["total_connections"] else {
            throw TestFailure("no total_connections in stats")
        }
        return open
    }
}

/// What the reference client keeps: the epoch and each topic's last offset, from the greeting and
/// every broadcast frame.
struct StreamFollower {
    var epoch: String?
    var offsets: [String: Int] = [:]

    init(greeting: ServerMessage) throws {
        guard case .connectionEstablished(let established) = greeting else { throw TestFailure("expected connection_established, got \(greeting)") }
        for (topic, stream) in established.streams ?? [:] {
            if let offset = stream.offset { offsets[topic] = offset }
            epoch = stream.epoch ?? epoch
        }
    }

    /// `?epoch=...&offsets=...` for a reconnect.
    var query: String {
        let offsets = self.offsets.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
        return "epoch=\(epoch ?? "")&offsets=\(offsets)"
    }

    /// Reads the next broadcast, checks that it comes right after its topic's last offset, and
    /// returns its `seq`.
    mutating func follow(_ client: WebSocketClient) async throws -> Int {
        let message = try await client.receiveMessage()
        let (topic, offset, epoch, data): (String, Int?, String?, [String: JSONValue]) =
            switch message {
            case .update(let update): (update.subscription.rawValue, update.offset, update.epoch, update.data)
            case .agentEvent(let event): ("agents", event.offset, event.epoch, event.data)
            case .systemEvent(let event): ("system", event.offset, event.epoch, event.data)
            case .criticalAlert(let alert): ("alerts", alert.offset, alert.epoch, alert.data.alerts.first ?? [:])
            default: throw TestFailure("expected a broadcast, got \(message)")
            }
        guard let offset, let epoch else { throw TestFailure("a broadcast without its position: \(message)") }
        if epoch == self.epoch, let last = offsets[topic] {
            #expect(offset == last + 1, "\(topic): offset \(offset) after \(last)")
        }
        self.epoch = epoch
        offsets[topic] = offset
        guard case .integer(let sequence) = data["seq"] else { throw TestFailure("no seq in \(data)") }
        return sequence
    }
}

/// Publishes `{"seq": n}`: even ones through a gateway's REST endpoint, odd ones onto the Redis
/// channel `agent_events:<n>` when there is Redis; each returns once the event is accepted.
struct Publisher {
    let redis: RedisServer?
    let restPort: Int

    func publish(_ sequence: Int, topic: String = "agents", type: String = "agent_update") async throws {
        if let redis, sequence % 2 == 1, topic == "agents" {
            _ = try await redis.publish("agent_events:agent-\(sequence)", #"{"seq":\#(sequence)}"#)
            return
        }
        let body = type == "critical_alert" ? #"{"alerts":[{"seq":\#(sequence)}]}"# : #"{"seq":\#(sequence)}"#
        var request = URLRequest(
            url: URL(string: "http://127.0.0.1:\(restPort)/api/dashboard/websocket/broadcast?subscription=\(topic)&message_type=\(type)")!
        )
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw TestFailure("broadcast answered \(response)") }
    }
}

enum HTTPGet {
    static func json(_ port: Int, _ path: String) async throws -> JSONValue {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return try JSONDecoder().decode(JSONValue.self, from: data)
    }
}
