import GatewayClient
import GeneratedMessages
import HiveOpsGateway
import NIOCore
import NIOEmbedded
import NIOWebSocket
import TestSupport
import Testing

/// A broadcast to many permessage-deflate connections is deflated once per deflate window, and
/// every one of them gets the same bytes; plain connections get the plain frame.
@Suite struct CompressedFanOutTests {
    @Test func aBroadcastToManyCompressedConnectionsIsDeflatedOncePerWindow() throws {
        let harness = SessionHarness()
        let compressed = try (0..<6).map { _ in
            try EmbeddedConnection(.dashboard, subscriptions: "agents", deflate: PerMessageDeflate(), harness: harness)
        }
        let smallWindow = try (0..<2).map { _ in
            try EmbeddedConnection(.dashboard, subscriptions: "agents", deflate: PerMessageDeflate(serverWindowBits: 10), harness: harness)
        }
        let plain = try EmbeddedConnection(.dashboard, subscriptions: "agents", harness: harness)
        let everyone = compressed + smallWindow + [plain]
        for connection in everyone { _ = try connection.written() }
        let deflatedBefore = harness.metric("hiveops_ws_deflate_operations_total")

        #expect(harness.router.deliver(try BroadcastEvent.testFleet(agents: 60)) == everyone.count)
        let frames = try everyone.map { try #require(try $0.written().first) }

        #expect(harness.metric("hiveops_ws_deflate_operations_total") - deflatedBefore == 2)
        let plainFrame = frames.last!
        #expect(!plainFrame.rsv1)
        let bigWindow = Array(frames[0..<6])
        #expect(bigWindow.allSatisfy { $0.rsv1 && $0.payload == bigWindow[0].payload })
        #expect(try MessageCompressionTests.peerInflate(ByteBuffer(bytes: bigWindow[0].payload)) == ByteBuffer(bytes: plainFrame.payload))
        #expect(bigWindow[0].payload.count * 4 < plainFrame.payload.count)
        let tenBits = Array(frames[6..<8])
        #expect(tenBits.allSatisfy { $0.rsv1 && $0.payload == tenBits[0].payload })
        #expect(
            try MessageCompressionTests.peerInflate(ByteBuffer(bytes: tenBits[0].payload), windowBits: 10) == ByteBuffer(bytes: plainFrame.payload)
        )

        // The operator's ratio: what the compressed connections got, against what they would have.
        let before = harness.metric("hiveops_ws_compression_bytes_before_total")
        let after = harness.metric("hiveops_ws_compression_bytes_after_total")
        #expect(before > 0 && after > 0 && after < before / 2)
        for connection in everyone { connection.finish() }
    }

    @Test func aCompressedClientMessageIsUnderstoodAndSmallRepliesGoUncompressed() throws {
        let harness = SessionHarness()
        let connection = try EmbeddedConnection(.dashboard, subscriptions: "agents", deflate: PerMessageDeflate(), harness: harness)
        _ = try connection.written()
        let subscribe = try MessageCompressionTests.peerDeflate(ByteBuffer(string: #"{"type":"ping"}"#))
        var frame = EmbeddedConnection.clientFrame(.text, bytes: Array(subscribe.readableBytesView))
        frame.rsv1 = true
        try connection.channel.writeInbound(frame)
        let written = try connection.written()
        let pong = try #require(written.first)
        #expect(written.count == 1)
        #expect(!pong.rsv1)  // a pong is below the threshold
        let text = String(decoding: pong.payload, as: UTF8.self)
        #expect(text.contains(#""type":"pong""#))
        // Control frames are never compressed (RFC 7692 §6.1).
        try connection.channel.writeInbound(EmbeddedConnection.clientFrame(.ping, bytes: Array(repeating: 7, count: 100)))
        try connection.close(1000)
        let closing = try connection.written()
        #expect(closing.map(\.opcode) == [0xA, 0x8])
        #expect(closing.allSatisfy { !$0.rsv1 })
        connection.finish()
    }
}

extension BroadcastEvent {
    /// An `agent_update` of a fleet the way HiveOps publishes it: a few kB of similar objects.
    static func testFleet(agents: Int) throws -> BroadcastEvent {
        let list: [JSONValue] = (0..<agents).map { index in
            [
                "id": .string("agent-\(index)"), "name": .string("worker-\(index)"), "status": .string(index % 7 == 0 ? "idle" : "active"),
                "current_task": .string("task-\(1_000 + index)"), "load": .number(Double(index % 10) / 10),
                "last_heartbeat": .string("2026-12-02T14:0\(index % 10):00.000Z"),
            ]
        }
        return try BroadcastEvent(type: "agent_update", subscription: "agents", data: ["agents": .array(list)], correlationId: "fleet-1")
    }
}
