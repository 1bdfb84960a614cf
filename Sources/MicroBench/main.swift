import Foundation
import GeneratedMessages
import HiveOpsGateway
import Logging
import NIOCore
import NIOWebSocket
import Prometheus
import RedisClient

// hiveops-microbench: the hot paths in isolation, in a release build.
// Each case runs for about a second (after a warm-up) and reports its rate.
// Usage: swift run -c release hiveops-microbench [path to Tests/Fixtures/frames]

struct Result {
    var name: String
    var operations: Int
    var seconds: Double
    var bytes: Int = 0

    var line: String {
        let perSecond = Double(operations) / seconds
        let nanos = seconds / Double(operations) * 1e9
        var text = "| \(name) | \(String(format: "%.0f", perSecond)) | \(String(format: "%.0f", nanos)) |"
        text += bytes > 0 ? " \(String(format: "%.1f", Double(bytes) / seconds / 1_048_576)) |" : " |"
        return text
    }
}

/// Runs `body` in rounds until a second has passed; `body` returns how many operations it did.
func measure(_ name: String, bytesPerOperation: Int = 0, _ body: () throws -> Int) rethrows -> Result {
    _ = try body()
    let clock = ContinuousClock()
    var operations = 0
    let start = clock.now
    while start.duration(to: clock.now) < .seconds(1) { operations += try body() }
    let elapsed = start.duration(to: clock.now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Result(name: name, operations: operations, seconds: seconds, bytes: operations * bytesPerOperation)
}

let arguments = CommandLine.arguments
let framesDirectory = URL(fileURLWithPath: arguments.count > 1 ? arguments[1] : "Tests/Fixtures/frames")
var results: [Result] = []
let decoder = JSONDecoder()
let encoder = JSONEncoder()

// Decode and encode of each generated frame type, from the fixtures.
/// Times decoding `data` as `Message` and encoding it back.
func measureCodec<Message: Codable>(_ type: Message.Type, name: String, data: Data) throws -> [Result] {
    let message = try decoder.decode(Message.self, from: data)
    return [
        try measure("decode \(name)", bytesPerOperation: data.count) {
            _ = try decoder.decode(Message.self, from: data)
            return 1
        },
        try measure("encode \(name)") {
            _ = try encoder.encode(message)
            return 1
        },
    ]
}

for folder in ["server", "client"] {
    let directory = framesDirectory.appending(path: folder)
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter {
        $0.hasSuffix(".json") && !$0.contains("hiveops-1.0.0")
    }.sorted()
    for name in names {
        let data = try Data(contentsOf: directory.appending(path: name))
        let type = name.replacingOccurrences(of: ".json", with: "")
        if folder == "server" {
            results += try measureCodec(ServerMessage.self, name: type, data: data)
        } else {
            results += try measureCodec(ClientMessage.self, name: "\(type) (client)", data: data)
        }
    }
}

// The pieces of relaying one Redis event.
let redisPayload = ByteBuffer(string: #"{"seq":12345,"t":987654321,"pad":""# + String(repeating: "x", count: 220) + #""}"#)
results.append(
    try measure("JSONValue decode of a 256-byte payload", bytesPerOperation: redisPayload.readableBytes) {
        _ = try decoder.decode(JSONValue.self, from: Data(redisPayload.readableBytesView))
        return 1
    }
)
results.append(
    measure("translate a Redis broadcast event") {
        _ = RedisChannels.translate(channel: "system_events", pattern: nil, payload: redisPayload, isConnected: { _ in false })
        return 1
    }
)
results.append(
    measure("matchesPattern ^[a-z_]+_update$ (SimplePattern)") {
        _ = "system_update".matchesPattern("^[a-z_]+_update$")
        return 1
    }
)
// The same language with a group, which only Regex takes: the path every pattern took before.
results.append(
    measure("matchesPattern ^(?:[a-z_]+)_update$ (Regex)") {
        _ = "system_update".matchesPattern("^(?:[a-z_]+)_update$")
        return 1
    }
)
results.append(
    measure("BroadcastMessage.Member(tag:) of an update type") {
        _ = BroadcastMessage.Member(tag: "system_update")
        return 1
    }
)
results.append(
    measure("timestamp") {
        _ = FrameEncoder.timestamp()
        return 1
    }
)
results.append(
    measure("correlation id (UUID)") {
        _ = FrameEncoder.newCorrelationId()
        return 1
    }
)

// The token bucket: a take that succeeds (refilled) and one that is refused.
var bucket = TokenBucket(rate: 1e12, capacity: 1e12, now: .now)
var instant = ContinuousClock.now
results.append(
    measure("token bucket take") {
        for _ in 0..<1_000 {
            instant = instant.advanced(by: .nanoseconds(1))
            _ = bucket.tryTake(at: instant)
        }
        return 1_000
    }
)

// One broadcast: build the typed frame, serialize it once, enqueue it for 1,000 and 10,000 connections.
let logger = Logger(label: "microbench")
for recipients in [1_000, 10_000] {
    let metrics = GatewayMetrics(registry: PrometheusCollectorRegistry())
    let manager = ConnectionManager(metrics: metrics, logger: logger)
    let connections = (0..<recipients).map { index in
        Connection(
            id: "c-\(index)",
            endpoint: .system,
            queue: OutboundQueue(maxBytes: 1 << 40, maxFrames: Int.max, failureThreshold: 5),
            idleTimeout: .seconds(600),
            now: .now,
            logger: logger,
            hooks: Connection.SocketHooks(eventLoop: nil, onLoop: { _ in }, forceClose: {})
        )
    }
    for connection in connections { _ = manager.register(connection, topics: [.system]) }
    let router = EventRouter(manager: manager, lastKnown: LastKnownData(), logger: logger)
    let event = try BroadcastEvent(
        type: "system_update",
        subscription: "system",
        data: ["seq": 1, "pad": .string(String(repeating: "x", count: 230))],
        correlationId: nil
    )
    var rounds = 0
    results.append(
        measure("broadcast to \(recipients) (serialize once + enqueue)") {
            _ = router.deliver(event)
            rounds += 1
            if rounds.isMultiple(of: 50) {
                // Keep the queues from growing without bound: drain them as writers would.
                for connection in connections { connection.drainForBenchmark() }
            }
            return 1
        }
    )
    results.append(
        try measure("serialize one broadcast frame") {
            _ = try FrameEncoder().encode(event.message(correlationId: "c", timestamp: FrameEncoder.timestamp()))
            return 1
        }
    )
}

// What the Redis listener does first with each event: decode and validate the envelope a
// producer published on hiveops:ws:broadcast (256 bytes of data, as hiveops-bench publishes it).
let envelope = ByteBuffer(
    string: #"{"subscription":"system","type":"system_update","data":{"seq":1,"t":1234567890123,"pad":"\#(String(repeating: "x", count: 220))"}}"#
)
results.append(
    measure("translate a broadcast envelope", bytesPerOperation: envelope.readableBytes) {
        let translation = RedisChannels.translate(channel: RedisChannels.broadcast, pattern: nil, payload: envelope, isConnected: { _ in false })
        guard case .deliver = translation else { fatalError("the envelope did not translate: \(translation)") }
        return 1
    }
)

// The RESP decoder on a stream of pub/sub messages with 256-byte payloads.
var stream = ByteBuffer()
let payload = String(repeating: "p", count: 256)
for _ in 0..<1_000 {
    stream.writeString("*3\r\n$7\r\nmessage\r\n$13\r\nsystem_events\r\n$\(payload.utf8.count)\r\n\(payload)\r\n")
}
let respDecoder = RESPDecoder()
results.append(
    try measure("RESP decode 1,000 pub/sub messages", bytesPerOperation: stream.readableBytes / 1_000) {
        var buffer = stream
        var count = 0
        while try respDecoder.decode(&buffer) != nil { count += 1 }
        return count
    }
)

print("| case | operations/s | ns/operation | MB/s |")
print("|---|---|---|---|")
for result in results { print(result.line) }

// permessage-deflate on the frame shapes HiveOps sends: bytes on the wire per delivered frame,
// compressed against plain, and what one deflate (once per broadcast) and one inflate cost.
func agent(_ index: Int) -> JSONValue {
    [
        "id": .string("agent-\(index)"), "name": .string("worker-\(index)"), "status": .string(index % 7 == 0 ? "idle" : "active"),
        "current_task": [
            "id": .string("task-\(1_000 + index)"), "title": "Index the repository and summarise changes",
            "progress": .number(Double(index * 13 % 100)),
        ],
        "capabilities": ["python", "swift", "review"], "load": .number(Double(index % 10) / 10),
        "last_heartbeat": .string("2026-12-02T14:0\(index % 10):00.000Z"),
    ]
}
let components: JSONValue = .object(
    Dictionary(uniqueKeysWithValues: ["redis", "postgres", "orchestrator", "scheduler"].map { ($0, ["status": "healthy", "latency_ms": 3.1]) })
)
let shapes: [(String, BroadcastEvent)] = [
    (
        "agent_update, 10 agents",
        try BroadcastEvent(type: "agent_update", subscription: "agents", data: ["agents": .array((0..<10).map(agent))], correlationId: nil)
    ),
    (
        "agent_update, 60 agents",
        try BroadcastEvent(type: "agent_update", subscription: "agents", data: ["agents": .array((0..<60).map(agent))], correlationId: nil)
    ),
    (
        "agent_update, 200 agents",
        try BroadcastEvent(type: "agent_update", subscription: "agents", data: ["agents": .array((0..<200).map(agent))], correlationId: nil)
    ),
    (
        "system_event",
        try BroadcastEvent(
            type: "system_event",
            subscription: "system",
            data: ["cpu_percent": 41.5, "memory_percent": 63.2, "active_agents": 57, "queued_tasks": 12, "components": components],
            correlationId: nil
        )
    ),
    (
        "critical_alert",
        try BroadcastEvent(
            type: "critical_alert",
            subscription: "alerts",
            data: [
                "alerts": [
                    [
                        "id": "disk-full", "severity": "critical", "message": "Disk usage above 95% on worker-12", "source": "monitor",
                        "timestamp": "2026-12-02T14:00:00.000Z",
                    ]
                ]
            ],
            correlationId: nil
        )
    ),
    (
        "task_update, one task",
        try BroadcastEvent(
            type: "task_update",
            subscription: "tasks",
            data: ["task_id": "task-1042", "status": "in_progress", "progress": 40],
            correlationId: nil
        )
    ),
]
let frameEncoder = FrameEncoder()
var framesToCompress: [(String, OutboundFrame)] = try shapes.map { name, event in
    (
        name,
        OutboundFrame(
            bytes: try frameEncoder.encode(event.message(correlationId: FrameEncoder.newCorrelationId(), timestamp: FrameEncoder.timestamp())),
            type: event.type,
            correlationId: ""
        )
    )
}
// The replies a client gets, the smallest frames there are.
framesToCompress += [
    ("reply: pong", try frameEncoder.frame(for: .pong, correlationId: nil)),
    (
        "reply: error, rate limited",
        try frameEncoder.frame(for: .error(message: "Rate limit exceeded", code: .rateLimited, retryAfterMilliseconds: 5_000), correlationId: nil)
    ),
    ("reply: subscription_updated", try frameEncoder.frame(for: .subscriptionUpdated([.agents, .alerts, .system]), correlationId: nil)),
]
let compression = MessageCompression(thresholdBytes: 0, metrics: GatewayMetrics(registry: PrometheusCollectorRegistry()))
print("")
print("| frame | plain frame bytes | deflated frame bytes | ratio | deflate ns | inflate ns |")
print("|---|---|---|---|---|---|")
for (name, frame) in framesToCompress {
    guard let deflated = compression.deflatedFrame(frame.bytes, opcode: .text, windowBits: 15) else { continue }
    let deflate = measure("deflate") {
        _ = compression.deflatedFrame(frame.bytes, opcode: .text, windowBits: 15)
        return 1
    }
    let lengthCode = deflated.getInteger(at: deflated.readerIndex + 1, as: UInt8.self)! & 0x7F
    let headerLength = lengthCode < 126 ? 2 : lengthCode == 126 ? 4 : 10
    let compressed = deflated.getSlice(at: headerLength, length: deflated.readableBytes - headerLength)!
    let inflate = measure("inflate") {
        _ = compression.inflate(compressed, maxBytes: 1 << 20)
        return 1
    }
    let ratio = Double(deflated.readableBytes) / Double(frame.wire.readableBytes)
    let nanos = { (result: Result) in String(format: "%.0f", result.seconds / Double(result.operations) * 1e9) }
    print(
        "| \(name) | \(frame.wire.readableBytes) | \(deflated.readableBytes) | \(String(format: "%.2f", ratio)) | \(nanos(deflate)) | \(nanos(inflate)) |"
    )
}
