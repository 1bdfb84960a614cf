import Foundation
import GatewayClient
import GeneratedMessages
import NIOCore
import NIOWebSocket
import Synchronization
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Over 100,000 generated malformed inputs against the real binary over loopback: messages on open
/// connections, bad frames on fresh ones, broken handshakes. Each input must get its documented
/// reaction; meanwhile clients that behave get every event, and afterwards the gateway is alive,
/// its connections and descriptors back to the true count and its memory near its baseline.
/// `FUZZ_SEED` replays a run (each run prints its seed); `FUZZ_MESSAGES` scales it. It runs with the
/// long tests (`HIVEOPS_LONG_TESTS=1`).
@Suite(.serialized, .enabled(if: LongTests.enabled)) struct MalformedInputFuzzTests {
    static let maxMessageBytes = 16_384
    static let maxFrameBytes = 1_048_576

    /// Outcomes seen per input kind, and the first mismatches.
    final class Tally: Sendable {
        private let state = Mutex((counts: [String: [String: Int]](), mismatches: [String]()))

        func record(kind: String, outcome: String, accepted: Bool, detail: @autoclosure () -> String) {
            state.withLock { state in
                state.counts[kind, default: [:]][outcome, default: 0] += 1
                if !accepted, state.mismatches.count < 20 { state.mismatches.append("\(kind): got \(outcome) for \(detail())") }
            }
        }

        var counts: [String: [String: Int]] { state.withLock { $0.counts } }
        var mismatches: [String] { state.withLock { $0.mismatches } }
        var total: Int { counts.values.reduce(0) { $0 + $1.values.reduce(0, +) } }
    }

    @Test func aLiveGatewayGivesEveryMalformedInputItsReactionAndKeepsServing() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max)
        let messageCount = environment["FUZZ_MESSAGES"].flatMap { Int($0) } ?? 96_000
        let frameCount = 2_500
        let handshakeCount = 1_500
        print("fuzz seed \(seed): \(messageCount) messages, \(frameCount) frames, \(handshakeCount) handshakes (FUZZ_SEED=\(seed) replays it)")

        let gateway = try await GatewayProcess(arguments: [
            // The flood is the point here: the rate limit has its own tests.
            "--rate-limit-rps", "10000000", "--rate-limit-burst", "1000000",
            "--max-message-bytes", "\(Self.maxMessageBytes)", "--handshake-timeout", "3",
        ])
        let base = "http://127.0.0.1:\(gateway.port)"
        var observers: [WebSocketClient] = []
        for _ in 0..<4 {
            let observer = try await WebSocketClient.connect(port: gateway.port, path: "/api/dashboard/ws/agents")
            guard case .connectionEstablished = try await observer.receiveMessage() else { throw TestFailure("observer greeting") }
            observers.append(observer)
        }
        // Warm up every path once before the baseline is taken.
        _ = try await Self.runMessages(port: gateway.port, count: 2_000, connections: 4, seed: seed &+ 1, tally: Tally())
        let baselineMemory = gateway.residentBytes
        let baselineDescriptors = gateway.openDescriptors

        // Events published throughout the run: the observers must get every one, in order.
        let publisher = Task { () -> Int in
            var published = 0
            while !Task.isCancelled {
                var request = URLRequest(url: URL(string: "\(base)/api/dashboard/websocket/broadcast?subscription=agents&message_type=agent_update")!)
                request.httpMethod = "POST"
                request.httpBody = Data(#"{"seq":\#(published)}"#.utf8)
                guard let (_, response) = try? await URLSession.shared.data(for: request), (response as? HTTPURLResponse)?.statusCode == 200 else {
                    break
                }
                published += 1
                try? await Task.sleep(for: .milliseconds(10))
            }
            return published
        }

        let tally = Tally()
        let started = ContinuousClock.now
        async let messages: Void = Self.runMessages(port: gateway.port, count: messageCount, connections: 8, seed: seed, tally: tally)
        async let frames: Void = Self.runFrames(port: gateway.port, count: frameCount, seed: seed &+ 2, tally: tally)
        async let handshakes: Void = Self.runHandshakes(port: gateway.port, count: handshakeCount, seed: seed &+ 3, tally: tally)
        _ = try await (messages, frames, handshakes)
        let elapsed = ContinuousClock.now - started
        publisher.cancel()
        let published = await publisher.value

        for (kind, outcomes) in tally.counts.sorted(by: { $0.key < $1.key }) {
            print("  \(kind): " + outcomes.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        }
        #expect(tally.total >= messageCount + frameCount + handshakeCount)
        #expect(tally.mismatches.isEmpty, "\(tally.mismatches.joined(separator: "\n"))")

        // Every observer got every event, in order.
        #expect(published > 0)
        for observer in observers {
            for expected in 0..<published {
                guard case .update(let update) = try await observer.receiveMessage() else { throw TestFailure("an observer lost an event") }
                #expect(update.data["seq"] == .integer(expected))
            }
        }

        // Alive, back to the true connection count, no leaked descriptor, memory near its baseline.
        let (health, _) = try await URLSession.shared.data(from: URL(string: "\(base)/health")!)
        #expect(try JSONDecoder().decode(JSONValue.self, from: health)["status"] == "healthy")
        let deadline = ContinuousClock.now + .seconds(10)
        var open = -1
        repeat {
            let (stats, _) = try await URLSession.shared.data(from: URL(string: "\(base)/api/dashboard/websocket/stats")!)
            open =
                try JSONDecoder().decode(JSONValue.self, from: stats)["total_connections"].flatMap { if case .integer(let n) = $0 { n } else { nil } }
                ?? -1
            if open != observers.count { try await Task.sleep(for: .milliseconds(100)) }
        } while open != observers.count && ContinuousClock.now < deadline
        #expect(open == observers.count)
        let memoryGrowth = gateway.residentBytes - baselineMemory
        let descriptors = gateway.openDescriptors
        print(
            "fuzz: \(tally.total) inputs in \(elapsed), \(published) events to \(observers.count) observers; "
                + "RSS \(baselineMemory / 1_048_576) MiB → \(gateway.residentBytes / 1_048_576) MiB; descriptors \(baselineDescriptors) → \(descriptors)"
        )
        #expect(memoryGrowth < 24 * 1_048_576, "RSS grew by \(memoryGrowth) bytes")
        #expect(descriptors <= baselineDescriptors + 4)
        gateway.signal(SIGTERM)
        #expect(try await gateway.waitForExit(timeout: .seconds(10)) == 0)
    }

    /// Malformed messages on open connections, pipelined in chunks: each gets exactly its reply, in order.
    static func runMessages(port: Int, count: Int, connections: Int, seed: UInt64, tally: Tally) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<connections {
                group.addTask {
                    var random = SeededRandom(seed: seed &+ UInt64(index) &* 7_919)
                    // Coordination, alerts and system: no event of the run is published to them.
                    let client = try await WebSocketClient.connect(port: port, path: "/api/dashboard/ws/coordination")
                    guard case .connectionEstablished = try await client.receiveMessage() else { throw TestFailure("greeting") }
                    var remaining = count / connections + (index < count % connections ? 1 : 0)
                    while remaining > 0 {
                        let chunk = (0..<min(200, remaining)).map { _ in FuzzInputs.message(maxMessageBytes: maxMessageBytes, using: &random) }
                        remaining -= chunk.count
                        for input in chunk {
                            switch input.payload {
                            case .text(let text): try await client.send(texts: [text])
                            case .binary(let bytes):
                                try await client.send(frame: WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: bytes)))
                            }
                        }
                        for input in chunk {
                            var frames: [String] = []
                            for _ in 0..<input.replyFrames { frames.append(try await outcome(of: client.receive(timeout: .seconds(30)))) }
                            let outcome = frames.joined(separator: " + ")
                            tally.record(kind: input.kind, outcome: outcome, accepted: input.accepted.contains(frames), detail: input.describe())
                        }
                    }
                    try await client.close()
                }
            }
            try await group.waitForAll()
        }
    }

    static func outcome(of frame: WebSocketClient.Frame) -> String {
        guard case .text(let text) = frame, let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)),
            let type = value["type"]?.stringValue
        else { return "unexpected frame \(frame)" }
        if type == "error" { return "error:\(value["code"]?.stringValue ?? "none")" }
        return type
    }

    /// Bad frames, each on a fresh connection: a close frame with the documented code.
    static func runFrames(port: Int, count: Int, seed: UInt64, tally: Tally) async throws {
        try await forEachConcurrently(count: count, width: 16, seed: seed) { random in
            let input = FuzzInputs.frame(maxFrameBytes: maxFrameBytes, using: &random)
            let connection = try await RawConnection.connect(port: port)
            defer { connection.close() }
            let status = try await connection.upgrade(path: "/api/dashboard/ws/agents")?.status
            let greeting = try await connection.readFrame()
            guard status == 101, greeting?.opcode == 0x1 else {
                throw TestFailure(
                    "handshake for a frame input: status \(status.map(String.init) ?? "none"), first frame \(String(describing: greeting))"
                )
            }
            await connection.write(input.bytes)
            let (sawClose, code) = try await connection.readUntilClosed()
            let outcome = sawClose ? "close \(code.map(String.init) ?? "without code")" : "closed without a close frame"
            tally.record(
                kind: "frame: \(input.kind)",
                outcome: outcome,
                accepted: code.map(input.accepted.contains) ?? false,
                detail: "\(input.bytes.prefix(16))"
            )
        }
    }

    /// Broken handshakes, each on a fresh connection: an HTTP status, or a close by the server.
    static func runHandshakes(port: Int, count: Int, seed: UInt64, tally: Tally) async throws {
        try await forEachConcurrently(count: count, width: 32, seed: seed) { random in
            let input = FuzzInputs.handshake(using: &random)
            let connection = try await RawConnection.connect(port: port)
            defer { connection.close() }
            await connection.write(input.bytes)
            // A half-open handshake gets no answer: the server closes it at its 3 s handshake timeout
            // (not less: under this load a sound request can take over a second to be read).
            let status = try await connection.readHTTPHead(timeout: .seconds(15))?.status ?? 0
            tally.record(
                kind: "handshake: \(input.kind)",
                outcome: status == 0 ? "closed" : "HTTP \(status)",
                accepted: input.accepted.contains(status),
                detail: String(decoding: input.bytes.prefix(60), as: UTF8.self)
            )
        }
    }

    /// Runs `body` `count` times, at most `width` at once, each with its own random source.
    static func forEachConcurrently(
        count: Int,
        width: Int,
        seed: UInt64,
        _ body: @escaping @Sendable (inout SeededRandom) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                if index >= width { try await group.next() }
                group.addTask {
                    var random = SeededRandom(seed: seed &+ UInt64(index) &* 104_729)
                    try await body(&random)
                }
            }
            try await group.waitForAll()
        }
    }
}
