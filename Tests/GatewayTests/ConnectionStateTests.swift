import GeneratedMessages
import HiveOpsGateway
import Logging
import NIOCore
import NIOWebSocket
import Synchronization
import TestSupport
import Testing

/// The connection's lifecycle under the sweeper's rules, with an injected clock and no socket.
@Suite struct ConnectionStateTests {
    let start = ContinuousClock.now

    func makeConnection(
        idle: Duration = .seconds(600),
        maxFrames: Int = 10,
        forceClosed: SendableFlag = SendableFlag(),
        flushes: SendableCounter = SendableCounter()
    ) -> Connection {
        Connection(
            id: "c-1",
            endpoint: .dashboard,
            subscriptions: [.agents],
            queue: OutboundQueue(maxBytes: 1 << 20, maxFrames: maxFrames, failureThreshold: 5),
            idleTimeout: idle,
            now: start,
            logger: Logger(label: "test"),
            forceCloseSocket: { forceClosed.set() },
            scheduleFlush: { _ in flushes.increment() }
        )
    }

    func frame() -> OutboundFrame {
        OutboundFrame(bytes: ByteBuffer(string: "{}"), type: "pong", correlationId: "x")
    }

    @Test func idleConnectionIsClosedAfterTheTimeout() {
        let connection = makeConnection(idle: .seconds(10))
        #expect(connection.sweep(now: start + .seconds(9), writeDeadline: .seconds(5), closeGrace: .seconds(2)) == .init())
        connection.recordActivity(at: start + .seconds(9))
        #expect(connection.sweep(now: start + .seconds(18), writeDeadline: .seconds(5), closeGrace: .seconds(2)).closedForIdle == false)
        #expect(connection.sweep(now: start + .seconds(19), writeDeadline: .seconds(5), closeGrace: .seconds(2)).closedForIdle)
        guard case .closing(let request, _) = connection.phase else {
            Issue.record("not closing")
            return
        }
        #expect(request.reason == .idleTimeout)
        #expect(request.code == .normalClosure)
    }

    @Test func queuedFramesAreFlushedBeforeTheCloseForIdle() async {
        let connection = makeConnection(idle: .seconds(1))
        #expect(connection.enqueue(frame(), now: start) == .enqueued)
        _ = connection.sweep(now: start + .seconds(1), writeDeadline: .seconds(5), closeGrace: .seconds(2))
        #expect(connection.enqueue(frame(), now: start) == .notOpen)
        // The writer waits while a frame is queued; the flusher's rounds release it.
        async let action = connection.nextWriterAction()
        #expect(connection.takeFlushBatch(now: start).count == 1)
        #expect(connection.takeFlushBatch(now: start).isEmpty)
        guard case .close(let request) = await action else {
            Issue.record("expected the close")
            return
        }
        #expect(request.reason == .idleTimeout)
        guard case .finish = await connection.nextWriterAction() else {
            Issue.record("expected the end")
            return
        }
    }

    @Test func backpressureDropsTheQueueAndClosesWith1013() async {
        let connection = makeConnection(maxFrames: 2)
        _ = connection.enqueue(frame(), now: start)
        _ = connection.enqueue(frame(), now: start)
        for failures in 1..<5 {
            #expect(connection.enqueue(frame(), now: start) == .failed(consecutiveFailures: failures, closing: false))
        }
        #expect(connection.enqueue(frame(), now: start) == .failed(consecutiveFailures: 5, closing: true))
        // The queue was dropped: the pending flush finds nothing, and the notice comes next.
        #expect(connection.takeFlushBatch(now: start).isEmpty)
        guard case .close(let request) = await connection.nextWriterAction() else {
            Issue.record("the notice must come next, before the dropped frames")
            return
        }
        #expect(request.reason == .backpressure)
        #expect(request.code == WebSocketErrorCode(codeNumber: 1013))
    }

    @Test func aWritePastItsDeadlineIsASendFailure() {
        let connection = makeConnection()
        _ = connection.enqueue(frame(), now: start)
        #expect(connection.takeFlushBatch(now: start).count == 1)
        #expect(connection.sweep(now: start + .seconds(4), writeDeadline: .seconds(5), closeGrace: .seconds(2)).writeDeadlineMissed == false)
        #expect(connection.sweep(now: start + .seconds(5), writeDeadline: .seconds(5), closeGrace: .seconds(2)).writeDeadlineMissed)
        // Counted once per write.
        #expect(connection.sweep(now: start + .seconds(6), writeDeadline: .seconds(5), closeGrace: .seconds(2)).writeDeadlineMissed == false)
    }

    @Test func aCloseThatTakesLongerThanTheGraceClosesTheSocket() {
        let flag = SendableFlag()
        let connection = makeConnection(forceClosed: flag)
        #expect(connection.requestClose(.admin(detail: "test"), now: start))
        #expect(connection.requestClose(.serverShutdown, now: start) == false, "the first request wins")
        #expect(connection.sweep(now: start + .seconds(1), writeDeadline: .seconds(5), closeGrace: .seconds(2)).forcedClose == false)
        #expect(!flag.isSet)
        #expect(connection.sweep(now: start + .seconds(2), writeDeadline: .seconds(5), closeGrace: .seconds(2)).forcedClose)
        #expect(flag.isSet)
    }

    @Test func anEnqueueSchedulesOneFlushUntilTheQueueIsDrained() {
        let flushes = SendableCounter()
        let connection = makeConnection(flushes: flushes)
        _ = connection.enqueue(frame())
        _ = connection.enqueue(frame())
        #expect(flushes.count == 1, "one flush for a burst")
        #expect(connection.takeFlushBatch(now: start).map(\.type) == ["pong", "pong"])
        #expect(connection.takeFlushBatch(now: start).isEmpty)
        _ = connection.enqueue(frame())
        #expect(flushes.count == 2, "the next frame after a drain schedules again")
    }

    @Test func aCancelledWriterFinishes() async {
        let connection = makeConnection()
        let task = Task { await connection.nextWriterAction() }
        task.cancel()
        guard case .finish = await task.value else {
            Issue.record("expected finish")
            return
        }
    }
}
