import HiveOpsGateway
import NIOCore
import Testing

/// The bounded outbound queue and the send-failure streak, without I/O.
@Suite struct OutboundQueueTests {
    func frame(_ size: Int, _ id: String = "c") -> OutboundFrame {
        .testing("agent_update", size: size, correlationId: id, subscription: "agents")
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
