import GeneratedMessages
import Logging
import NIOCore
import NIOEmbedded
import Prometheus
import Synchronization
import TestSupport
import Testing

@testable import HiveOpsGateway

#if canImport(Glibc)
import Glibc
#endif

/// A broadcast reaches each event loop once, with the recipients it serves, and the loop delivers
/// it: written at once to idle connections, queued and flushed once behind anything waiting, and
/// never overtaken by a greeting or reply that reports a position it is at or below.
@Suite struct LoopFanOutTests {
    /// What a connection asked of its socket, in order: `write <correlation id>`, `flush`, or
    /// `remainder <bytes>`.
    final class SocketLog: Sendable {
        private let entries = Mutex<[String]>([])
        var all: [String] { entries.withLock { $0 } }

        func hooks(_ loop: EmbeddedEventLoop) -> Connection.SocketHooks {
            Connection.SocketHooks(
                eventLoop: loop,
                onLoop: { work in
                    switch work {
                    case .flush: self.entries.withLock { $0.append("flush") }
                    case .write(let frame): self.entries.withLock { $0.append("write \(frame.correlationId)") }
                    case .remainder(let rest): self.entries.withLock { $0.append("remainder \(rest.readableBytes)") }
                    }
                },
                forceClose: {}
            )
        }
    }

    let metrics = GatewayMetrics(registry: PrometheusCollectorRegistry())

    func manager() -> ConnectionManager { ConnectionManager(metrics: metrics, logger: Logger(label: "test")) }

    func queued(_ connection: Connection) -> Int { connection.withMachine { $0.outbound.queue.count } }

    @Test func aBroadcastIsWrittenAtOnceToIdleRecipientsByTheirOwnLoop() {
        let manager = manager()
        let loops = [EmbeddedEventLoop(), EmbeddedEventLoop()]
        let logs = (0..<4).map { _ in SocketLog() }
        let connections = (0..<4).map { index in
            Connection.testing(id: "c-\(index)", endpoint: .system, hooks: logs[index].hooks(loops[index % 2]))
        }
        for connection in connections { #expect(manager.register(connection, topics: [.system]) == nil) }

        #expect(manager.broadcast(.event(.system, 1), to: .system) == 4)
        #expect(logs.allSatisfy { $0.all.isEmpty }, "nothing is written before each loop runs")
        loops[0].run()
        #expect(logs.map(\.all) == [["write system-1"], [], ["write system-1"], []])
        loops[1].run()
        #expect(logs.allSatisfy { $0.all == ["write system-1"] })
        #expect(connections.allSatisfy { queued($0) == 0 }, "written past the queue")
        #expect(Self.sample("hiveops_ws_messages_sent_total", metrics) == 4, "counted once per loop, not per frame")
        #expect(Self.sample("hiveops_ws_bytes_sent_total", metrics) == Double(4 * OutboundFrame.event(.system, 1).bytes.readableBytes))
    }

    @Test func broadcastsHandedOverBeforeTheLoopRunsAreQueuedAndFlushedOnce() {
        let manager = manager()
        let loop = EmbeddedEventLoop()
        let logs = (0..<2).map { _ in SocketLog() }
        let connections = (0..<2).map { Connection.testing(id: "c-\($0)", endpoint: .system, hooks: logs[$0].hooks(loop)) }
        for connection in connections { _ = manager.register(connection, topics: [.system]) }

        for offset in 1...3 { manager.broadcast(.event(.system, offset), to: .system) }
        loop.run()
        #expect(logs.allSatisfy { $0.all == ["flush"] }, "one flush writes all three")
        #expect(connections.allSatisfy { queued($0) == 3 })
    }

    @Test func aFrameWaitsBehindWhatIsQueuedAhead() {
        let manager = manager()
        let loop = EmbeddedEventLoop()
        let log = SocketLog()
        let connection = Connection.testing(endpoint: .system, hooks: log.hooks(loop))
        _ = manager.register(connection, topics: [.system])

        #expect(connection.enqueue(.testing("pong")) == .enqueued)
        manager.broadcast(.event(.system, 1), to: .system)
        loop.run()
        #expect(log.all == ["flush"], "the flush owed for the pong writes both")
        #expect(queued(connection) == 2)
    }

    @Test func aFullQueueRefusesAndCountsTheFramesThatDoNotFit() {
        let manager = manager()
        let loop = EmbeddedEventLoop()
        let connection = Connection.testing(endpoint: .system, hooks: SocketLog().hooks(loop))
        _ = manager.register(connection, topics: [.system])

        // The test's queue holds 10; its flush writes nothing.
        for offset in 1...12 { manager.broadcast(.event(.system, offset), to: .system) }
        loop.run()
        #expect(queued(connection) == 10)
        #expect(Self.sample("hiveops_ws_messages_send_failures_total", metrics) == 2)
    }

    /// The seam between a greeting and the live stream: a broadcast recorded before the greeting's
    /// positions were read, still on its way to the loop, is held and dropped, not sent after it.
    @Test func aGreetingComesAfterTheBroadcastsHandedOverBeforeItsPositionsWereRead() {
        let manager = manager()
        let loop = EmbeddedEventLoop()
        let connection = Connection.testing(endpoint: .system, hooks: SocketLog().hooks(loop), holdUntilGreeting: true)
        _ = manager.register(connection, topics: [.system])

        manager.broadcast(.event(.system, 5), to: .system)
        // The greeting reports offset 5: event 5 is behind the client, not ahead of it.
        let greetingPosition = StreamPosition(epoch: "e1", offset: 5)
        connection.release([], greeting: true, leading: [.testing("connection_established")], covered: [.system: greetingPosition])
        manager.broadcast(.event(.system, 6), to: .system)
        loop.run()
        let frames = connection.withMachine { machine in
            var frames: [String] = []
            while case .write(let batch) = machine.nextFlush(writable: true, now: .now) { frames += batch.map(\.correlationId) }
            return frames
        }
        #expect(frames == ["x", "system-6"], "the greeting, then the first event after it")
    }

    @Test func aBroadcastRecordsItsStagesAndItsFanoutOnceEveryLoopHasDelivered() {
        let manager = manager()
        let loops = [EmbeddedEventLoop(), EmbeddedEventLoop()]
        for index in 0..<3 {
            _ = manager.register(Connection.testing(id: "c-\(index)", hooks: SocketLog().hooks(loops[index % 2])), topics: [.system])
        }
        let arrived = ContinuousClock.now - .milliseconds(30)
        let timing = ConnectionManager.BroadcastTiming(
            arrivedAt: arrived,
            dequeuedAt: arrived + .milliseconds(20),
            routingStartedAt: arrived + .milliseconds(25)
        )
        #expect(manager.broadcast(.event(.system, 1), to: .system, timing: timing) == 3)
        #expect(Self.sample(#"hiveops_ws_broadcast_stage_seconds_count{stage="wait"}"#, metrics) == 1)
        #expect(Self.sample(#"hiveops_ws_broadcast_stage_seconds_sum{stage="wait"}"#, metrics) == 0.02, "the queueing delay")
        #expect(Self.sample(#"hiveops_ws_broadcast_stage_seconds_sum{stage="translate"}"#, metrics) == 0.005)
        #expect(Self.sample(#"hiveops_ws_broadcast_stage_seconds_count{stage="enqueue"}"#, metrics) == 1)
        #expect(Self.sample(#"hiveops_ws_broadcast_stage_seconds_count{stage="flush"}"#, metrics) == 0)
        loops[0].run()
        #expect(Self.sample("hiveops_ws_broadcast_fanout_seconds_count", metrics) == 0, "one loop of two has delivered")
        loops[1].run()
        #expect(Self.sample("hiveops_ws_broadcast_fanout_seconds_count", metrics) == 1)
        #expect(Self.sample(#"hiveops_ws_broadcast_stage_seconds_count{stage="flush"}"#, metrics) == 1)
        #expect((Self.sample("hiveops_ws_broadcast_fanout_seconds_sum", metrics) ?? 0) >= 0.03)
        // 30 ms since arrival: not in the 25 ms bucket, in the 50 ms one.
        #expect(Self.sample(#"hiveops_ws_broadcast_fanout_seconds_bucket{le="0.025"}"#, metrics) == 0)
        #expect(Self.sample(#"hiveops_ws_broadcast_fanout_seconds_bucket{le="0.05"}"#, metrics) == 1)
        #expect(manager.broadcast(.event(.system, 2), to: .system) == 3, "without a timing, nothing is recorded")
        for loop in loops { loop.run() }
        #expect(Self.sample("hiveops_ws_broadcast_fanout_seconds_count", metrics) == 1)
    }

    @Test func aFrameWrittenAtOnceGoesStraightToAnOfferedSocketAndWhatItDoesNotTakeToTheChannel() throws {
        // A real socket pair: the connection's end non-blocking, as SwiftNIO keeps its sockets.
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { for descriptor in pair { close(descriptor) } }
        #expect(fcntl(pair[0], F_SETFL, fcntl(pair[0], F_GETFL) | O_NONBLOCK) == 0)
        #expect(fcntl(pair[1], F_SETFL, fcntl(pair[1], F_GETFL) | O_NONBLOCK) == 0)
        let manager = manager()
        let loop = EmbeddedEventLoop()
        let log = SocketLog()
        let connection = Connection.testing(endpoint: .system, hooks: log.hooks(loop))
        #expect(manager.register(connection, topics: [.system]) == nil)
        connection.offerSocket(DirectSocketWriter(descriptor: pair[0]))

        manager.broadcast(.event(.system, 1), to: .system)
        loop.run()
        #expect(log.all.isEmpty, "the handler is not asked")
        #expect(Self.read(pair[1]) == Array(OutboundFrame.event(.system, 1).wire.readableBytesView))

        // A socket that takes nothing more: the whole frame is the remainder, for the channel.
        let blob = [UInt8](repeating: 0, count: 1 << 16)
        while blob.withUnsafeBytes({ send(pair[0], $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) > 0 {}
        manager.broadcast(.event(.system, 2), to: .system)
        loop.run()
        #expect(log.all == ["remainder \(OutboundFrame.event(.system, 2).wire.readableBytes)"])

        connection.offerSocket(nil)
        manager.broadcast(.event(.system, 3), to: .system)
        loop.run()
        #expect(log.all.last == "write system-3", "withdrawn: the handler writes it")
        #expect(Self.sample("hiveops_ws_messages_sent_total", metrics) == 3)
    }

    /// What the socket holds now, without waiting.
    static func read(_ descriptor: Int32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        return Array(bytes.prefix(max(0, count)))
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
