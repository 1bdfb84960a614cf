import GeneratedMessages
import HiveOpsGateway
import Logging
import NIOCore
import NIOEmbedded
import TestSupport
import Testing

/// A broadcast's flushes go to each event loop in one task.
@Suite struct FlushBatchTests {
    @Test func aBroadcastFlushesEveryRecipientFromOneTaskPerLoop() throws {
        let loop = EmbeddedEventLoop()
        let flushes = SendableCounter()
        let connections = (0..<3).map { index in
            Connection.testing(
                id: "c-\(index)",
                endpoint: .system,
                hooks: Connection.SocketHooks(eventLoop: loop, flushOnLoop: { flushes.increment() }, forceClose: {})
            )
        }
        let frame = OutboundFrame(bytes: ByteBuffer(string: "{}"), type: "system_update", correlationId: "x")
        var batch = FlushBatch()
        for connection in connections {
            #expect(connection.enqueue(frame, now: .now, flushes: &batch) == .enqueued)
        }
        // A second frame before the flush ran needs no second flush.
        #expect(connections[0].enqueue(frame, now: .now, flushes: &batch) == .enqueued)
        loop.run()
        #expect(flushes.count == 0, "nothing runs before the batch is submitted")
        batch.submit()
        loop.run()
        #expect(flushes.count == 3)
    }
}
