import Foundation
import GatewayClient
import GeneratedMessages
import RedisClient
import Synchronization
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A bounded soak of the real binary on a real Redis: clients connecting and leaving all the time
/// (some without a close frame, some mid-handshake), floods, stalled readers, and a Redis restart
/// halfway. Healthy clients must get every event Redis accepted while the gateway was subscribed;
/// afterwards the connection count is the true one, no descriptor leaked and memory is stable.
/// `HIVEOPS_SOAK_SECONDS` sets the length (60 s by default); it runs with the long tests.
@Suite(.serialized, .enabled(if: LongTests.enabled))
struct SoakTests {
    /// Sequence numbers a healthy client received.
    final class Received: Sendable {
        private let seqs = Mutex<[Int]>([])
        func append(_ seq: Int) { seqs.withLock { $0.append(seq) } }
        var all: [Int] { seqs.withLock { $0 } }
    }

    struct Sample {
        var second: Int
        var rssMiB: Int
        var descriptors: Int
        var connections: Int
    }

    @Test func churnFloodsStalledReadersAndARedisRestart() async throws {
        let seconds = ProcessInfo.processInfo.environment["HIVEOPS_SOAK_SECONDS"].flatMap { Int($0) } ?? 60
        let redis = try await RedisServer()
        let gateway = try await GatewayProcess(arguments: [
            "--redis-url", redis.url, "--redis-backoff-initial", "0.2", "--redis-backoff-cap", "1",
            // Small queues, so that stalled readers are cut within the run.
            "--outbound-queue-frames", "1000", "--outbound-queue-bytes", "262144", "--write-deadline", "2",
        ])
        try await RedisListenerProbe.waitUntilSubscribed(port: gateway.port)
        let port = gateway.port

        // Healthy clients: they read everything, all the time.
        var healthy: [(WebSocketClient, Received)] = []
        var readers: [Task<Void, Never>] = []
        for _ in 0..<20 {
            let client = try await WebSocketClient.connect(port: port, path: "/api/dashboard/ws/system")
            guard case .connectionEstablished = try await client.receiveMessage() else { throw TestFailure("greeting") }
            let received = Received()
            healthy.append((client, received))
            readers.append(
                Task {
                    while let frame = try? await client.receive(timeout: .seconds(3_600)) {
                        if case .text(let text) = frame, let message = try? JSONDecoder().decode(ServerMessage.self, from: Data(text.utf8)),
                            case .systemEvent(let event) = message, case .integer(let seq) = event.data["seq"]
                        {
                            received.append(seq)
                        }
                        if case .disconnected = frame { return }
                    }
                }
            )
        }

        let stop = SendableFlag()
        let accepted = Received()
        let churned = SendableCounter()
        let abrupt = SendableCounter()
        let floods = SendableCounter()
        let stalled = SendableCounter()
        let padding = String(repeating: "p", count: 8_192)

        // The publisher: one event every 5 ms through Redis; an event counts as accepted when PUBLISH
        // says the gateway's subscription received it.
        let publisher = Task {
            var seq = 0
            var connection: RedisConnection?
            while !stop.isSet {
                if connection == nil { connection = try? await redis.connect() }
                if let current = connection {
                    let payload = #"{"seq":\#(seq),"pad":"\#(padding)"}"#
                    switch try? await current.command(["PUBLISH", "system_events", payload], timeout: .seconds(1)) {
                    case .integer(let receivers) where receivers > 0: accepted.append(seq)
                    case .integer: break
                    default:
                        current.close()
                        connection = nil
                    }
                    seq += 1
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
            connection?.close()
        }

        progress("soak: healthy clients connected")
        let endpoints = ["agents", "tasks", "coordination", "dashboard", "system"]
        var workers: [Task<Void, Never>] = []
        // Churn: connect, ping, leave; every other one without a close frame, some mid-handshake.
        for worker in 0..<8 {
            workers.append(
                Task {
                    var round = 0
                    while !stop.isSet {
                        round += 1
                        if round % 10 == 0 {
                            if let raw = try? await RawConnection.connect(port: port) {
                                await raw.write(Array("GET /api/dashboard/ws/agents HTTP/1.1\r\nHost: x\r\nUpg".utf8))
                                raw.close()
                                abrupt.increment()
                            }
                            continue
                        }
                        let path = "/api/dashboard/ws/\(endpoints[(worker + round) % endpoints.count])"
                        guard let client = try? await WebSocketClient.connect(port: port, path: path) else { continue }
                        _ = try? await client.receiveMessage()
                        try? await client.send(.ping(Ping(correlationId: "churn")))
                        if round % 2 == 0 {
                            await client.abort()
                            abrupt.increment()
                        } else {
                            try? await client.close()
                        }
                        churned.increment()
                    }
                }
            )
        }
        // Floods: bursts far past the rate limit, then away without a close frame.
        for _ in 0..<2 {
            workers.append(
                Task {
                    while !stop.isSet {
                        guard let client = try? await WebSocketClient.connect(port: port, path: "/api/dashboard/ws/coordination") else { continue }
                        for _ in 0..<5 { try? await client.send(texts: Array(repeating: #"{"type":"ping"}"#, count: 100)) }
                        await client.abort()
                        floods.increment()
                    }
                }
            )
        }
        // Stalled readers: two every few seconds, on the busy topic; the gateway must cut them (1013).
        var stalledClients: [WebSocketClient] = []
        let clock = ContinuousClock()
        let start = clock.now
        var samples: [Sample] = []
        var restarted = false
        var baseline: (rss: Int, descriptors: Int)?
        while clock.now < start + .seconds(seconds) {
            let elapsed = Int((clock.now - start).components.seconds)
            if elapsed % 5 == 0, samples.last?.second != elapsed {
                for _ in 0..<2 {
                    if let client = try? await WebSocketClient.connect(port: port, path: "/api/dashboard/ws/system") {
                        client.stopReading()
                        stalledClients.append(client)
                        stalled.increment()
                    }
                }
                let connections = try await Self.metric(port, "hiveops_ws_connections")
                samples.append(
                    Sample(second: elapsed, rssMiB: gateway.residentBytes / 1_048_576, descriptors: gateway.openDescriptors, connections: connections)
                )
                if elapsed >= 10, baseline == nil { baseline = (gateway.residentBytes, gateway.openDescriptors) }
            }
            if elapsed % 5 == 0 { progress("soak: t=\(elapsed) churned \(churned.count) floods \(floods.count)") }
            if !restarted, elapsed >= seconds / 2 {
                restarted = true
                redis.kill()
                try await Task.sleep(for: .seconds(2))
                try await redis.start()
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        stop.set()
        progress("soak: stopping the workers")
        for worker in workers { await worker.value }
        progress("soak: workers stopped")
        await publisher.value
        for client in stalledClients { await client.abort() }

        // Every accepted event reached every healthy client, in order, once.
        let acceptedSeqs = accepted.all
        let deliveryDeadline = clock.now + .seconds(20)
        while healthy.contains(where: { $0.1.all.count < acceptedSeqs.count }), clock.now < deliveryDeadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        for (_, received) in healthy {
            #expect(received.all == acceptedSeqs, "a healthy client got \(received.all.count) of \(acceptedSeqs.count) accepted events")
        }
        // The true count: the healthy clients only, once the churn has settled.
        let settleDeadline = clock.now + .seconds(15)
        var connections = try await Self.metric(port, "hiveops_ws_connections")
        while connections != healthy.count, clock.now < settleDeadline {
            try await Task.sleep(for: .milliseconds(100))
            connections = try await Self.metric(port, "hiveops_ws_connections")
        }
        #expect(connections == healthy.count)
        let final = Sample(second: seconds, rssMiB: gateway.residentBytes / 1_048_576, descriptors: gateway.openDescriptors, connections: connections)
        samples.append(final)
        let backpressure = try await Self.metric(port, "hiveops_ws_backpressure_disconnects_total")
        let reconnects = try await Self.metric(port, "hiveops_redis_reconnects_total", path: "/metrics")
        print(
            "soak \(seconds) s: \(churned.count) churned (\(abrupt.count) abrupt), \(floods.count) floods, \(stalled.count) stalled readers "
                + "(\(backpressure) cut for backpressure), \(acceptedSeqs.count) events accepted, \(reconnects) Redis reconnects"
        )
        for sample in samples {
            print("  t=\(sample.second) s: RSS \(sample.rssMiB) MiB, descriptors \(sample.descriptors), connections \(sample.connections)")
        }
        #expect(backpressure > 0, "the stalled readers were cut")
        #expect(reconnects >= 1)
        if let baseline {
            #expect(final.descriptors <= baseline.descriptors + 8, "descriptors \(baseline.descriptors) → \(final.descriptors)")
            // Before the fix of the context cycle, churn leaked ~5 KB a connection: about 30 MiB in 60 s.
            #expect(final.rssMiB * 1_048_576 < baseline.rss + 16 * 1_048_576, "RSS \(baseline.rss / 1_048_576) → \(final.rssMiB) MiB")
        }
        for task in readers { task.cancel() }
        for (client, _) in healthy { await client.abort() }
        gateway.signal(SIGTERM)
        #expect(try await gateway.waitForExit(timeout: .seconds(10)) == 0)
    }

    static func metric(_ port: Int, _ name: String, path: String = "/api/dashboard/metrics/websockets") async throws -> Int {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        let text = String(decoding: data, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + " ") }),
            let value = Double(line.split(separator: " ").last ?? "")
        else { throw TestFailure("metric \(name) not found") }
        return Int(value)
    }
}

/// The long runs (fuzz, soak) run on their own, not beside the other tests: they load the machine
/// enough to starve timing-based tests. `scripts/test-all.sh` runs them after the main suite.
/// A progress line on standard error, unbuffered, so that a stuck long run shows where it is.
func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

enum LongTests {
    static var enabled: Bool { ProcessInfo.processInfo.environment["HIVEOPS_LONG_TESTS"] == "1" }
}
