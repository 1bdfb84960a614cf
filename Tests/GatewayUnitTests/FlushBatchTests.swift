import GeneratedMessages
import HiveOpsGateway
import Logging
import NIOCore
import NIOEmbedded
import Prometheus
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

    @Test func whenDoneRunsOnceAfterTheLastLoopHasFlushed() {
        let loops = [EmbeddedEventLoop(), EmbeddedEventLoop()]
        let flushes = SendableCounter()
        let done = SendableCounter()
        let frame = OutboundFrame(bytes: ByteBuffer(string: "{}"), type: "system_update", correlationId: "x")
        var batch = FlushBatch()
        for (index, loop) in loops.enumerated() {
            let connection = Connection.testing(
                id: "c-\(index)",
                hooks: Connection.SocketHooks(eventLoop: loop, flushOnLoop: { flushes.increment() }, forceClose: {})
            )
            #expect(connection.enqueue(frame, now: .now, flushes: &batch) == .enqueued)
        }
        batch.submit { done.increment() }
        loops[0].run()
        #expect(flushes.count == 1 && done.count == 0, "one loop of two has flushed")
        loops[1].run()
        #expect(flushes.count == 2 && done.count == 1)

        let empty = FlushBatch()
        empty.submit { done.increment() }
        #expect(done.count == 2, "nothing to flush: done at once")
    }

    @Test func aBroadcastRecordsItsStagesAndItsFanoutOnceEveryLoopHasWritten() {
        let metrics = GatewayMetrics(registry: PrometheusCollectorRegistry())
        let manager = ConnectionManager(metrics: metrics, logger: Logger(label: "test"))
        let loop = EmbeddedEventLoop()
        for index in 0..<3 {
            let connection = Connection.testing(
                id: "c-\(index)",
                hooks: Connection.SocketHooks(eventLoop: loop, flushOnLoop: {}, forceClose: {})
            )
            #expect(manager.register(connection, topics: [.system]) == nil)
        }
        let frame = OutboundFrame(bytes: ByteBuffer(string: "{}"), type: "system_update", correlationId: "x")
        let arrived = ContinuousClock.now - .milliseconds(30)
        let timing = ConnectionManager.BroadcastTiming(
            arrivedAt: arrived,
            dequeuedAt: arrived + .milliseconds(20),
            routingStartedAt: arrived + .milliseconds(25)
        )
        #expect(manager.broadcast(frame, to: .system, timing: timing) == 3)
        #expect(Self.sample(#"hiveops_ws_broadcast_stage_seconds_count{stage="wait"}"#, metrics) == 1)
        #expect(Self.sample(#"hiveops_ws_broadcast_stage_seconds_sum{stage="wait"}"#, metrics) == 0.02, "the queueing delay")
        #expect(Self.sample(#"hiveops_ws_broadcast_stage_seconds_sum{stage="translate"}"#, metrics) == 0.005)
        #expect(Self.sample(#"hiveops_ws_broadcast_stage_seconds_count{stage="enqueue"}"#, metrics) == 1)
        #expect(Self.sample(#"hiveops_ws_broadcast_stage_seconds_count{stage="flush"}"#, metrics) == 0)
        #expect(Self.sample("hiveops_ws_broadcast_fanout_seconds_count", metrics) == 0, "the loop has not written yet")
        loop.run()
        #expect(Self.sample("hiveops_ws_broadcast_fanout_seconds_count", metrics) == 1)
        #expect(Self.sample(#"hiveops_ws_broadcast_stage_seconds_count{stage="flush"}"#, metrics) == 1)
        #expect((Self.sample("hiveops_ws_broadcast_fanout_seconds_sum", metrics) ?? 0) >= 0.03)
        // 30 ms since arrival: not in the 25 ms bucket, in the 50 ms one.
        #expect(Self.sample(#"hiveops_ws_broadcast_fanout_seconds_bucket{le="0.025"}"#, metrics) == 0)
        #expect(Self.sample(#"hiveops_ws_broadcast_fanout_seconds_bucket{le="0.05"}"#, metrics) == 1)
        #expect(manager.broadcast(frame, to: .system) == 3, "without a timing, nothing is recorded")
        loop.run()
        #expect(Self.sample("hiveops_ws_broadcast_fanout_seconds_count", metrics) == 1)
    }

    /// A sample's value in the registry's exposition, by its name and labels as exported.
    static func sample(_ name: String, _ metrics: GatewayMetrics) -> Double? {
        var bytes: [UInt8] = []
        metrics.registry.emit(into: &bytes)
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }
}
