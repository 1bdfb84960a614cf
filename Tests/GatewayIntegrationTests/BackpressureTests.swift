import Foundation
import GatewayClient
import GeneratedMessages
import HiveOpsGateway
import TestSupport
import Testing

/// Slow consumers end to end: clients that stop reading are disconnected with
/// a backpressure notice while a healthy client on the same topic gets every
/// event, in order, and the server's memory stays within the queue bounds.
@Suite struct BackpressureTests {
    static let stalledClients = 20
    static let eventBytes = 4_096

    @Test func stalledReadersAreDisconnectedAndHealthyOnesLoseNothing() async throws {
        try await TestGateway.with { gateway in
            let healthy = try await gateway.connectAndGreet(.agents).0
            var stalled: [WebSocketClient] = []
            for _ in 0..<Self.stalledClients {
                let client = try await gateway.connectAndGreet(.agents).0
                client.stopReading()
                stalled.append(client)
            }
            let baseline = try residentBytes()
            var peak = baseline
            let padding = JSONValue.string(String(repeating: "p", count: Self.eventBytes))
            var sequence = 0
            // Publish in batches and let the healthy client read each batch, so it never falls behind
            // by more than a batch, until every stalled client has been cut off (bounded in count).
            while gateway.application.manager.count > 1, sequence < 40_000 {
                for _ in 0..<50 {
                    sequence += 1
                    let event = try BroadcastEvent(
                        type: "agent_update",
                        subscription: "agents",
                        data: ["sequence": .integer(sequence), "padding": padding],
                        correlationId: "evt-\(sequence)"
                    )
                    gateway.application.router.deliver(event)
                }
                for expected in (sequence - 49)...sequence {
                    guard case .update(let update) = try await healthy.receiveMessage() else {
                        throw TestFailure("the healthy client got something other than an update")
                    }
                    #expect(update.data["sequence"] == .integer(expected), "gap or reordering at \(expected)")
                }
                peak = max(peak, try residentBytes())
            }
            print("backpressure: \(sequence) events, resident growth \(peak - baseline) bytes")
            #expect(gateway.application.manager.count == 1, "every stalled client was disconnected")
            #expect(try await gateway.metric("hiveops_ws_backpressure_disconnects_total") == Double(Self.stalledClients))
            #expect(try await gateway.metric("hiveops_ws_messages_send_failures_total") >= Double(5 * Self.stalledClients))

            // Each queue holds at most 4 MiB; NIO and the clients' own buffers get the slack.
            let bound = Self.stalledClients * (4_194_304 + 65_536) + 96 * 1_048_576
            #expect(peak - baseline < bound, "resident memory grew by \(peak - baseline) bytes")

            // A stalled client that reads again finds its stream ended by the server.
            let first = stalled[0]
            first.resumeReading()
            var sawEnd = false
            for _ in 0..<(sequence + 10) {
                let frame = try await first.receive()
                if frame == .disconnected {
                    sawEnd = true
                    break
                }
                if case .close(let code, _) = frame { #expect(code == 1013) }
            }
            #expect(sawEnd)
        }
    }

    @Test func aClientThatReadsAgainInTimeKeepsItsConnection() async throws {
        try await TestGateway.with(TestGateway.configuration { $0.outbound.queueFrames = 100 }) { gateway in
            let (client, _) = try await gateway.connectAndGreet(.agents)
            client.stopReading()
            for sequence in 1...50 {
                gateway.application.router.deliver(
                    try BroadcastEvent(type: "agent_update", subscription: "agents", data: ["sequence": .integer(sequence)], correlationId: nil)
                )
            }
            client.resumeReading()
            for sequence in 1...50 {
                guard case .update(let update) = try await client.receiveMessage() else { throw TestFailure("update") }
                #expect(update.data["sequence"] == .integer(sequence))
            }
            #expect(try await gateway.metric("hiveops_ws_messages_send_failures_total") == 0)
        }
    }
}

/// A frame is written straight to the socket when nothing waits in the channel ahead of it
/// (`DirectSocketWriter`); what a full socket does not take is finished by SwiftNIO, and the frames
/// behind it wait for it. A reader that stops until its socket is full, then reads again, gets
/// every frame whole and in order.
@Suite struct DirectWriteTests {
    @Test func framesTheSocketTookInPartArriveWholeAndInOrder() async throws {
        try await TestGateway.with(TestGateway.configuration { $0.outbound.writeDeadline = .seconds(60) }) { gateway in
            let (client, _) = try await gateway.connectAndGreet(.agents)
            client.stopReading()
            let padding = String(repeating: "x", count: 48 * 1_024)
            func deliver(_ sequence: Int) throws {
                gateway.application.router.deliver(
                    try BroadcastEvent(
                        type: "agent_update",
                        subscription: "agents",
                        data: ["sequence": .integer(sequence), "padding": .string(padding)],
                        correlationId: nil
                    )
                )
            }
            // One frame at a time, each written before the next is delivered (the sent-frames counter
            // says so), so that each goes the direct way, until the socket takes one only in part.
            var sent = try await gateway.metric("hiveops_ws_messages_sent_total")
            var count = 0
            while try await gateway.metric("hiveops_ws_direct_write_remainders_total") == 0 {
                guard count < 2_000 else { throw TestFailure("the socket took all of \(count) frames of 48 KiB") }
                count += 1
                try deliver(count)
                let deadline = ContinuousClock.now + .seconds(10)
                while try await gateway.metric("hiveops_ws_messages_sent_total") < sent + 1 {
                    guard ContinuousClock.now < deadline else { throw TestFailure("frame \(count) was not written") }
                    await Task.yield()
                }
                sent += 1
            }
            // Behind the rest in the channel: these must not overtake it.
            for _ in 1...3 {
                count += 1
                try deliver(count)
            }
            client.resumeReading()
            for sequence in 1...count {
                guard case .update(let update) = try await client.receiveMessage() else { throw TestFailure("update \(sequence)") }
                #expect(update.data["sequence"] == .integer(sequence))
                #expect(update.data["padding"] == .string(padding))
            }
            #expect(try await gateway.metric("hiveops_ws_messages_send_failures_total") == 0)
        }
    }
}

/// This process's resident set size, from /proc.
func residentBytes(pid: String = "self") throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
    else { throw TestFailure("no VmRSS in /proc/\(pid)/status") }
    return kilobytes * 1_024
}
