import HiveOpsGateway
import NIOCore
import Testing

@Suite struct OutboundBatchTests {
    func frame(_ size: Int, _ id: String) -> OutboundFrame { .testing("t", size: size, correlationId: id) }

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
