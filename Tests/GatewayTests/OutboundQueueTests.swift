import HiveOpsGateway
import NIOCore
import Testing

/// The bounded outbound queue and the send-failure streak, without I/O.
@Suite struct OutboundQueueTests {
    func frame(_ size: Int, _ id: String = "c") -> OutboundFrame {
        OutboundFrame(bytes: ByteBuffer(repeating: UInt8(ascii: "x"), count: size), type: "agent_update", subscription: "agents", correlationId: id)
    }

    @Test func boundedByFrames() {
        var queue = OutboundQueue(maxBytes: 1 << 20, maxFrames: 3, failureThreshold: 5)
        for _ in 0..<3 { #expect(queue.enqueue(frame(10)) == .enqueued) }
        #expect(queue.enqueue(frame(10)) == .rejected(consecutiveFailures: 1, disconnect: false))
        #expect(queue.count == 3)
    }

    @Test func boundedByBytes() {
        var queue = OutboundQueue(maxBytes: 100, maxFrames: 1_000, failureThreshold: 5)
        #expect(queue.enqueue(frame(60)) == .enqueued)
        #expect(queue.enqueue(frame(41)) == .rejected(consecutiveFailures: 1, disconnect: false))
        #expect(queue.enqueue(frame(40)) == .enqueued)
        #expect(queue.bytes == 100)
        _ = queue.dequeueBatch(maxFrames: 1, maxBytes: .max)
        #expect(queue.bytes == 40)
    }

    @Test func theStreakReachesTheThreshold() {
        var queue = OutboundQueue(maxBytes: 10, maxFrames: 1, failureThreshold: 5)
        #expect(queue.enqueue(frame(5)) == .enqueued)
        for failures in 1..<5 {
            #expect(queue.enqueue(frame(5)) == .rejected(consecutiveFailures: failures, disconnect: false))
        }
        #expect(queue.enqueue(frame(5)) == .rejected(consecutiveFailures: 5, disconnect: true))
    }

    @Test func aSuccessfulSendResetsTheStreak() {
        var queue = OutboundQueue(maxBytes: 10, maxFrames: 1, failureThreshold: 5)
        _ = queue.enqueue(frame(5))
        for _ in 0..<4 { _ = queue.enqueue(frame(5)) }
        _ = queue.dequeueBatch(maxFrames: 1, maxBytes: .max)
        #expect(queue.enqueue(frame(5)) == .enqueued)
        #expect(queue.consecutiveFailures == 0)
        #expect(queue.enqueue(frame(5)) == .rejected(consecutiveFailures: 1, disconnect: false))
    }

    @Test func framesLeaveInOrder() {
        var queue = OutboundQueue(maxBytes: 1_000, maxFrames: 10, failureThreshold: 5)
        for index in 0..<5 { _ = queue.enqueue(frame(1, "\(index)")) }
        let order = queue.dequeueBatch(maxFrames: .max, maxBytes: .max).map(\.correlationId)
        #expect(order == ["0", "1", "2", "3", "4"])
    }
}

@Suite struct OutboundBatchTests {
    func frame(_ size: Int, _ id: String) -> OutboundFrame {
        OutboundFrame(bytes: ByteBuffer(repeating: UInt8(ascii: "x"), count: size), type: "t", correlationId: id)
    }

    @Test func batchesKeepOrderAndRespectBothBounds() {
        var queue = OutboundQueue(maxBytes: 1 << 20, maxFrames: 100, failureThreshold: 5)
        for index in 0..<10 { _ = queue.enqueue(frame(100, "\(index)")) }
        #expect(queue.dequeueBatch(maxFrames: 3, maxBytes: 10_000).map(\.correlationId) == ["0", "1", "2"])
        #expect(queue.dequeueBatch(maxFrames: 100, maxBytes: 250).map(\.correlationId) == ["3", "4"])
        #expect(queue.bytes == 500)
        #expect(queue.dequeueBatch(maxFrames: 100, maxBytes: 1).map(\.correlationId) == ["5"], "at least one frame")
        #expect(queue.dequeueBatch(maxFrames: 100, maxBytes: 10_000).count == 4)
        #expect(queue.isEmpty && queue.bytes == 0)
    }
}

/// The frame a broadcast shares with every recipient: RFC 6455 framing, encoded once.
@Suite struct OutboundFrameWireTests {
    @Test(arguments: [0, 125, 126, 65_535, 65_536, 200_000])
    func theWireFormIsAFinalUnmaskedTextFrame(payloadLength: Int) {
        let frame = OutboundFrame(bytes: ByteBuffer(repeating: UInt8(ascii: "j"), count: payloadLength), type: "t", correlationId: "c")
        var wire = frame.wire
        #expect(wire.readInteger(as: UInt8.self) == 0x81)
        let marker = wire.readInteger(as: UInt8.self)!
        #expect(marker & 0x80 == 0, "server frames are not masked")
        let length: Int
        switch marker {
        case 126: length = Int(wire.readInteger(as: UInt16.self)!)
        case 127: length = Int(wire.readInteger(as: UInt64.self)!)
        default: length = Int(marker)
        }
        #expect(length == payloadLength)
        #expect(marker == (payloadLength < 126 ? UInt8(payloadLength) : payloadLength <= 65_535 ? 126 : 127))
        #expect(wire == frame.bytes)
    }
}
