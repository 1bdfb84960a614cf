import GeneratedMessages
import HiveOpsGateway
import Logging
import NIOCore
import NIOEmbedded
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
            hooks: Connection.SocketHooks(eventLoop: nil, flushOnLoop: { flushes.increment() }, forceClose: { forceClosed.set() })
        )
    }

    let rules = Connection.SweepRules(writeDeadline: .seconds(5), closeGrace: .seconds(2))

    func frame() -> OutboundFrame {
        OutboundFrame(bytes: ByteBuffer(string: "{}"), type: "pong", correlationId: "x")
    }

    @Test func idleConnectionIsClosedAfterTheTimeout() {
        let connection = makeConnection(idle: .seconds(10))
        #expect(connection.sweep(now: start + .seconds(9), rules: rules) == .init())
        connection.recordActivity(at: start + .seconds(9))
        #expect(connection.sweep(now: start + .seconds(18), rules: rules).closedForIdle == false)
        #expect(connection.sweep(now: start + .seconds(19), rules: rules).closedForIdle)
        guard case .closing(let request, _) = connection.phase else {
            Issue.record("not closing")
            return
        }
        #expect(request.reason == .idleTimeout)
        #expect(request.code == .normalClosure)
    }

    @Test func queuedFramesAreFlushedBeforeTheCloseForIdle() {
        let flushes = SendableCounter()
        let connection = makeConnection(idle: .seconds(1), flushes: flushes)
        #expect(connection.enqueue(frame(), now: start) == .enqueued)
        _ = connection.sweep(now: start + .seconds(1), rules: rules)
        #expect(connection.enqueue(frame(), now: start) == .notOpen)
        #expect(flushes.count == 1, "the pending flush also sends the close")
        guard case .write(let frames) = connection.nextFlush(writable: true, now: start) else {
            Issue.record("the queued frame goes first")
            return
        }
        #expect(frames.count == 1)
        guard case .close(let request) = connection.nextFlush(writable: true, now: start) else {
            Issue.record("expected the close")
            return
        }
        #expect(request.reason == .idleTimeout)
        guard case .done = connection.nextFlush(writable: true, now: start) else {
            Issue.record("expected the end")
            return
        }
    }

    @Test func backpressureDropsTheQueueAndClosesWith1013() {
        let connection = makeConnection(maxFrames: 2)
        _ = connection.enqueue(frame(), now: start)
        _ = connection.enqueue(frame(), now: start)
        for failures in 1..<5 {
            #expect(connection.enqueue(frame(), now: start) == .failed(consecutiveFailures: failures, closing: false))
        }
        #expect(connection.enqueue(frame(), now: start) == .failed(consecutiveFailures: 5, closing: true))
        // The queue was dropped: the notice comes next, before the dropped frames.
        guard case .close(let request) = connection.nextFlush(writable: true, now: start) else {
            Issue.record("the notice must come next, before the dropped frames")
            return
        }
        #expect(request.reason == .backpressure)
        #expect(request.code == WebSocketErrorCode(codeNumber: 1013))
    }

    @Test func aSocketThatStaysUnwritablePastTheDeadlineIsASendFailure() {
        let flushes = SendableCounter()
        let connection = makeConnection(flushes: flushes)
        _ = connection.enqueue(frame(), now: start)
        guard case .waitForWritability = connection.nextFlush(writable: false, now: start) else {
            Issue.record("an unwritable socket holds the queue")
            return
        }
        #expect(connection.sweep(now: start + .seconds(4), rules: rules).writeDeadlineMissed == false)
        #expect(connection.sweep(now: start + .seconds(5), rules: rules).writeDeadlineMissed)
        // Counted once per stall.
        #expect(connection.sweep(now: start + .seconds(6), rules: rules).writeDeadlineMissed == false)
        _ = connection.enqueue(frame(), now: start)
        #expect(flushes.count == 1, "a flush already waits for writability")
        #expect(connection.writabilityChanged(writable: true, now: start + .seconds(7)), "writability resumes the waiting flush")
        guard case .write(let frames) = connection.nextFlush(writable: true, now: start + .seconds(7)) else {
            Issue.record("the queue goes out once the socket takes bytes")
            return
        }
        #expect(frames.count == 2)
        #expect(connection.sweep(now: start + .seconds(20), rules: rules).writeDeadlineMissed == false, "the stall ended")
    }

    @Test func aCloseThatTakesLongerThanTheGraceClosesTheSocket() {
        let flag = SendableFlag()
        let connection = makeConnection(forceClosed: flag)
        #expect(connection.requestClose(.admin(detail: "test"), now: start))
        #expect(connection.requestClose(.serverShutdown, now: start) == false, "the first request wins")
        #expect(connection.sweep(now: start + .seconds(1), rules: rules).forcedClose == false)
        #expect(!flag.isSet)
        #expect(connection.sweep(now: start + .seconds(2), rules: rules).forcedClose)
        #expect(flag.isSet)
    }

    @Test func anEnqueueSchedulesOneFlushUntilTheQueueIsDrained() {
        let flushes = SendableCounter()
        let connection = makeConnection(flushes: flushes)
        _ = connection.enqueue(frame())
        _ = connection.enqueue(frame())
        #expect(flushes.count == 1, "one flush for a burst")
        guard case .write(let frames) = connection.nextFlush(writable: true, now: start) else {
            Issue.record("expected the frames")
            return
        }
        #expect(frames.map(\.type) == ["pong", "pong"])
        guard case .done = connection.nextFlush(writable: true, now: start) else {
            Issue.record("expected the end of the flush")
            return
        }
        _ = connection.enqueue(frame())
        #expect(flushes.count == 2, "the next frame after a drain schedules again")
    }

    @Test func aQuietConnectionIsPingedAndClosedWhenThePeerStaysSilent() {
        let flag = SendableFlag()
        let flushes = SendableCounter()
        let connection = makeConnection(forceClosed: flag, flushes: flushes)
        let pinging = Connection.SweepRules(writeDeadline: .seconds(5), closeGrace: .seconds(2), pingInterval: .seconds(30))
        #expect(connection.sweep(now: start + .seconds(29), rules: pinging).pingSent == false)
        #expect(connection.sweep(now: start + .seconds(30), rules: pinging).pingSent)
        #expect(flushes.count == 1, "the ping goes out through a flush")
        guard case .ping = connection.nextFlush(writable: true, now: start + .seconds(30)) else {
            Issue.record("expected the ping")
            return
        }
        // The peer answers: the next interval pings again instead of closing.
        connection.recordPeerAlive()
        _ = connection.nextFlush(writable: true, now: start + .seconds(30))
        #expect(connection.sweep(now: start + .seconds(60), rules: pinging).pingSent)
        // No answer to that one: the next interval closes the socket.
        let silent = connection.sweep(now: start + .seconds(90), rules: pinging)
        #expect(silent.closedForPingTimeout)
        #expect(flag.isSet)
    }

    @Test func aFinishedConnectionLetsGoOfItsSocket() {
        let flag = SendableFlag()
        let flushes = SendableCounter()
        let connection = makeConnection(forceClosed: flag, flushes: flushes)
        connection.markFinished()
        #expect(connection.enqueue(frame()) == .notOpen)
        connection.forceClose()
        #expect(!flag.isSet, "the hooks were dropped")
        #expect(flushes.count == 0)
    }
}

/// A broadcast's flushes go to each event loop in one task.
@Suite struct FlushBatchTests {
    @Test func aBroadcastFlushesEveryRecipientFromOneTaskPerLoop() throws {
        let loop = EmbeddedEventLoop()
        let flushes = SendableCounter()
        let connections = (0..<3).map { index in
            Connection(
                id: "c-\(index)",
                endpoint: .system,
                subscriptions: [.system],
                queue: OutboundQueue(maxBytes: 1 << 20, maxFrames: 10, failureThreshold: 5),
                idleTimeout: .seconds(600),
                now: .now,
                logger: Logger(label: "test"),
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

extension ConnectionStateTests {
    @Test func aCloseAnsweredOutsideTheFlusherIsBoundedByTheGrace() {
        let flag = SendableFlag()
        let connection = makeConnection(forceClosed: flag)
        _ = connection.enqueue(frame(), now: start)
        connection.markCloseSent(now: start)
        #expect(connection.enqueue(frame(), now: start) == .notOpen)
        #expect(connection.queuedBytes == 0)
        #expect(connection.sweep(now: start + .seconds(1), rules: rules).forcedClose == false)
        #expect(connection.sweep(now: start + .seconds(2), rules: rules).forcedClose)
        #expect(flag.isSet)
    }
}
