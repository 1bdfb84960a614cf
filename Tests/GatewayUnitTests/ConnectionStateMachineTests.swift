import HiveOpsGateway
import NIOCore
import NIOWebSocket
import Testing

/// Every transition of the connection's lifecycle, as a value: no socket, no lock, an injected clock.
@Suite struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine
    let start = ContinuousClock.now
    let rules = Machine.SweepRules(writeDeadline: .seconds(5), closeGrace: .seconds(2))
    let pinging = Machine.SweepRules(writeDeadline: .seconds(5), closeGrace: .seconds(2), pingInterval: .seconds(30))

    func machine(idle: Duration = .seconds(600), maxFrames: Int = 10, threshold: Int = 5, expiry: Duration? = nil) -> Machine {
        Machine(
            queue: OutboundQueue(maxBytes: 1 << 20, maxFrames: maxFrames, failureThreshold: threshold),
            idleTimeout: idle,
            credentialExpiry: expiry.map { start + $0 },
            now: start
        )
    }

    func frame(_ type: String = "pong") -> OutboundFrame { .testing(type) }

    /// Writes what the flusher would write, until it is done; the actions in order, by name.
    func flushAll(_ machine: inout Machine, writable: Bool = true, now: ContinuousClock.Instant) -> [String] {
        var steps: [String] = []
        while steps.count < 20 {
            switch machine.nextFlush(writable: writable, now: now) {
            case .sendPing: steps.append("ping")
            case .write(let frames): steps.append("write \(frames.count)")
            case .sendClose(let request): steps.append("close \(UInt16(webSocketErrorCode: request.code))")
            case .waitForWritability:
                steps.append("wait")
                return steps
            case .done: return steps
            }
        }
        return steps
    }

    func isOpen(_ machine: Machine) -> Bool {
        if case .open = machine.state { return true }
        return false
    }

    // MARK: - Enqueue and flush

    @Test func anEnqueueAsksForOneFlushUntilTheQueueIsDrained() {
        var machine = machine()
        let got1 = machine.enqueue(frame(), now: start)
        #expect(got1 == .enqueued(scheduleFlush: true))
        let got2 = machine.enqueue(frame(), now: start)
        #expect(got2 == .enqueued(scheduleFlush: false), "a flush is owed already")
        let got3 = flushAll(&machine, now: start)
        #expect(got3 == ["write 2"])
        let got4 = machine.enqueue(frame(), now: start)
        #expect(got4 == .enqueued(scheduleFlush: true), "drained: the next one asks again")
    }

    @Test func aLiveFrameIsWrittenAtOnceOnlyWhenNothingWaitsAheadOfIt() {
        var machine = machine(maxFrames: 1, threshold: 3)
        #expect(machine.deliverLive(frame(), now: start) == .writeNow, "idle: past the queue")
        #expect(machine.enqueue(frame(), now: start) == .enqueued(scheduleFlush: true))
        #expect(machine.deliverLive(frame(), now: start) == .queued(.rejected(consecutiveFailures: 1)), "behind the reply, in a full queue")
        #expect(flushAll(&machine, now: start) == ["write 1"])
        #expect(machine.deliverLive(frame(), now: start) == .writeNow, "drained: past the queue again")

        // A socket that takes no bytes: queued, and the flush that waits for it is owed.
        _ = machine.writabilityChanged(writable: false, now: start)
        #expect(machine.deliverLive(frame(), now: start) == .queued(.enqueued(scheduleFlush: true)))
        #expect(machine.deliverLive(frame(), now: start) == .queued(.rejected(consecutiveFailures: 1)), "the frame written at once ended the streak")
        #expect(flushAll(&machine, writable: false, now: start) == ["wait"])
        let resumed = machine.writabilityChanged(writable: true, now: start)
        #expect(resumed)
        #expect(flushAll(&machine, now: start) == ["write 1"])

        _ = machine.requestClose(.serverShutdown, now: start)
        #expect(machine.deliverLive(frame(), now: start) == .queued(.notOpen))
    }

    @Test func aFullQueueIsASendFailureAndTheThresholdClosesWith1013() {
        var machine = machine(maxFrames: 1, threshold: 3)
        let got1 = machine.enqueue(frame(), now: start)
        #expect(got1 == .enqueued(scheduleFlush: true))
        let got2 = machine.enqueue(frame(), now: start)
        #expect(got2 == .rejected(consecutiveFailures: 1))
        let got3 = machine.enqueue(frame(), now: start)
        #expect(got3 == .rejected(consecutiveFailures: 2))
        let got4 = machine.enqueue(frame(), now: start)
        #expect(got4 == .rejectedAndClosing(consecutiveFailures: 3))
        guard case .draining(let draining) = machine.state else {
            Issue.record("not draining: \(machine.state)")
            return
        }
        #expect(draining.request == .backpressure(failures: 3))
        #expect(machine.outbound.queue.isEmpty, "the queue is dropped")
        let got5 = flushAll(&machine, now: start)
        #expect(got5 == ["close 1013"])
        let got6 = machine.enqueue(frame(), now: start)
        #expect(got6 == .notOpen)
    }

    @Test func aCloseRequestDrainsTheQueueFirstUnlessItDropsIt() {
        var keeping = machine()
        _ = keeping.enqueue(frame(), now: start)
        let got1 = keeping.requestClose(.serverShutdown, now: start)
        #expect(got1 == .accepted(scheduleFlush: false), "the enqueue's flush is owed")
        let got2 = keeping.requestClose(.admin(detail: nil), now: start)
        #expect(got2 == .ignored, "the first request wins")
        let got3 = keeping.enqueue(frame(), now: start)
        #expect(got3 == .notOpen)
        let got4 = flushAll(&keeping, now: start)
        #expect(got4 == ["write 1", "close 1001"])
        let got5 = flushAll(&keeping, now: start)
        #expect(got5 == [], "the close goes once")

        var dropping = machine()
        _ = dropping.enqueue(frame(), now: start)
        _ = flushAll(&dropping, now: start)
        _ = dropping.enqueue(frame(), now: start)
        let got6 = dropping.requestClose(.tokenExpired, now: start)
        #expect(got6 == .accepted(scheduleFlush: false))
        let got7 = flushAll(&dropping, now: start)
        #expect(got7 == ["close 4401"])
    }

    @Test func anUnwritableSocketParksTheFlushUntilWritabilityReturns() {
        var machine = machine()
        _ = machine.enqueue(frame(), now: start)
        let got1 = flushAll(&machine, writable: false, now: start)
        #expect(got1 == ["wait"])
        let got2 = machine.enqueue(frame(), now: start)
        #expect(got2 == .enqueued(scheduleFlush: false), "the parked flush sends it")
        let got3 = machine.writabilityChanged(writable: false, now: start)
        #expect(got3 == false)
        let got4 = machine.writabilityChanged(writable: true, now: start)
        #expect(got4 == true, "resume the parked flush")
        let got5 = machine.writabilityChanged(writable: true, now: start)
        #expect(got5 == false, "resumed once")
        let got6 = flushAll(&machine, now: start)
        #expect(got6 == ["write 2"])
    }

    @Test func aDrainingCloseWaitsForWritabilityToo() {
        var machine = machine()
        _ = machine.enqueue(frame(), now: start)
        _ = machine.requestClose(.serverShutdown, now: start)
        let got1 = flushAll(&machine, writable: false, now: start)
        #expect(got1 == ["wait"])
        let got2 = machine.writabilityChanged(writable: true, now: start)
        #expect(got2)
        let got3 = flushAll(&machine, now: start)
        #expect(got3 == ["write 1", "close 1001"])
    }

    // MARK: - The sweep

    @Test func theWriteDeadlineCountsOneFailurePerStall() {
        var machine = machine()
        _ = machine.enqueue(frame(), now: start)
        _ = flushAll(&machine, writable: false, now: start)
        let got1 = machine.sweep(now: start + .seconds(4), rules: rules)
        #expect(got1 == .none)
        let got2 = machine.sweep(now: start + .seconds(5), rules: rules)
        #expect(got2 == .writeDeadlineMissed)
        let got3 = machine.sweep(now: start + .seconds(9), rules: rules)
        #expect(got3 == .none, "counted once per stall")
        let got4 = machine.writabilityChanged(writable: true, now: start + .seconds(10))
        #expect(got4)
        let got5 = flushAll(&machine, now: start + .seconds(10))
        #expect(got5 == ["write 1"])
        let got6 = machine.sweep(now: start + .seconds(20), rules: rules)
        #expect(got6 == .none, "the stall ended")
        // A new stall counts again.
        let got7 = machine.writabilityChanged(writable: false, now: start + .seconds(21))
        #expect(got7 == false)
        let got8 = machine.sweep(now: start + .seconds(26), rules: rules)
        #expect(got8 == .writeDeadlineMissed)
    }

    @Test func missedDeadlinesReachingTheThresholdCloseForBackpressure() {
        var machine = machine(threshold: 1)
        _ = machine.enqueue(frame(), now: start)
        _ = flushAll(&machine, writable: false, now: start)
        let got1 = machine.sweep(now: start + .seconds(5), rules: rules)
        #expect(got1 == .close(.backpressure, scheduleFlush: false), "the parked flush sends it")
        guard case .draining(let draining) = machine.state else {
            Issue.record("not draining")
            return
        }
        #expect(draining.request == .backpressure(failures: 1))
    }

    @Test func anExpiredCredentialClosesWith4401() {
        var machine = machine(expiry: .seconds(60))
        let got1 = machine.sweep(now: start + .seconds(59), rules: rules)
        #expect(got1 == .none)
        let got2 = machine.sweep(now: start + .seconds(60), rules: rules)
        #expect(got2 == .close(.tokenExpired, scheduleFlush: true))
        let got3 = flushAll(&machine, now: start + .seconds(60))
        #expect(got3 == ["close 4401"])
    }

    @Test func anIdleConnectionIsClosedAfterTheTimeoutAndAMessageRestartsIt() {
        var machine = machine(idle: .seconds(10))
        let got1 = machine.sweep(now: start + .seconds(9), rules: rules)
        #expect(got1 == .none)
        machine.messageReceived(at: start + .seconds(9))
        let got2 = machine.sweep(now: start + .seconds(18), rules: rules)
        #expect(got2 == .none)
        let got3 = machine.sweep(now: start + .seconds(19), rules: rules)
        #expect(got3 == .close(.idle, scheduleFlush: true))
        guard case .draining(let draining) = machine.state else {
            Issue.record("not draining")
            return
        }
        #expect(draining.request == .idleTimeout(after: 10))
        let got4 = machine.sweep(now: start + .seconds(20), rules: rules)
        #expect(got4 == .none, "within the close grace")
        let got5 = machine.sweep(now: start + .seconds(21), rules: rules)
        #expect(got5 == .forceClose(.closeGraceElapsed))
    }

    @Test func aQuietConnectionIsPingedAndAPeerThatStaysSilentIsCut() {
        var machine = machine()
        let got1 = machine.sweep(now: start + .seconds(29), rules: pinging)
        #expect(got1 == .none)
        let got2 = machine.sweep(now: start + .seconds(30), rules: pinging)
        #expect(got2 == .sendPing(scheduleFlush: true))
        let got3 = flushAll(&machine, now: start + .seconds(30))
        #expect(got3 == ["ping"])
        machine.peerFrameReceived()
        let got4 = machine.sweep(now: start + .seconds(59), rules: pinging)
        #expect(got4 == .none)
        let got5 = machine.sweep(now: start + .seconds(60), rules: pinging)
        #expect(got5 == .sendPing(scheduleFlush: true))
        let got6 = flushAll(&machine, now: start + .seconds(60))
        #expect(got6 == ["ping"])
        let got7 = machine.sweep(now: start + .seconds(90), rules: pinging)
        #expect(got7 == .forceClose(.pingTimeout), "no frame since the ping")
    }

    @Test func aPeerHeardBeforeTheOwedPingIsWrittenNeedsNoPing() {
        var machine = machine()
        let got1 = machine.sweep(now: start + .seconds(30), rules: pinging)
        #expect(got1 == .sendPing(scheduleFlush: true))
        machine.peerFrameReceived()
        let got2 = flushAll(&machine, now: start + .seconds(30))
        #expect(got2 == [])
        let got3 = machine.sweep(now: start + .seconds(59), rules: pinging)
        #expect(got3 == .none, "the interval runs from the decided ping")
        let got4 = machine.sweep(now: start + .seconds(60), rules: pinging)
        #expect(got4 == .sendPing(scheduleFlush: true))
    }

    @Test func anOwedPingNeverWrittenWithinAnIntervalCutsThePeer() {
        var machine = machine()
        _ = machine.enqueue(frame(), now: start)
        _ = flushAll(&machine, writable: false, now: start)
        let got1 = machine.sweep(now: start + .seconds(30), rules: pinging)
        #expect(got1 == .writeDeadlineMissed, "one rule a sweep, the deadline first")
        let got2 = machine.sweep(now: start + .seconds(31), rules: pinging)
        #expect(got2 == .sendPing(scheduleFlush: false), "the parked flush will write it")
        let got3 = machine.sweep(now: start + .seconds(61), rules: pinging)
        #expect(got3 == .forceClose(.pingTimeout))
    }

    // MARK: - The close handshake

    @Test func thePeersCloseIsAnsweredWithItsCodeAndThenTheSocketCloses() {
        var machine = machine()
        #expect(machine.isHandshakeOpen)
        let got1 = machine.peerClosed(answer: .normalClosure, now: start)
        #expect(got1 == .sendCloseThenCloseSocket(.normalClosure))
        #expect(!machine.isHandshakeOpen)
        let got2 = machine.enqueue(frame(), now: start)
        #expect(got2 == .notOpen)
        let got3 = machine.peerClosed(answer: .normalClosure, now: start)
        #expect(got3 == .alreadyClosing)
        let got4 = machine.requestClose(.serverShutdown, now: start)
        #expect(got4 == .ignored)
        let got5 = machine.sweep(now: start + .seconds(2), rules: rules)
        #expect(got5 == .forceClose(.closeGraceElapsed), "a peer that does not read")
        let got6 = machine.socketClosed()
        #expect(got6 == .client)
        guard case .finished = machine.state else {
            Issue.record("not finished")
            return
        }
        let got7 = machine.sweep(now: start + .seconds(60), rules: rules)
        #expect(got7 == .none)
    }

    @Test func afterOurCloseThePeersAnswerClosesTheSocket() {
        var machine = machine()
        _ = machine.requestClose(.admin(detail: "maintenance"), now: start)
        #expect(machine.isHandshakeOpen, "draining: the close frame is not out yet")
        let got1 = flushAll(&machine, now: start)
        #expect(got1 == ["close 1000"])
        #expect(!machine.isHandshakeOpen)
        let got2 = machine.sweep(now: start + .seconds(1), rules: rules)
        #expect(got2 == .none)
        let got3 = machine.peerClosed(answer: .normalClosure, now: start + .seconds(1))
        #expect(got3 == .closeSocket)
        let got4 = machine.socketClosed()
        #expect(got4 == .server(.admin(detail: "maintenance")))
    }

    @Test func thePeerClosingWhileWeDrainKeepsOurReasonForTheLog() {
        var machine = machine()
        _ = machine.enqueue(frame(), now: start)
        _ = machine.requestClose(.serverShutdown, now: start)
        let got1 = machine.peerClosed(answer: .goingAway, now: start)
        #expect(got1 == .sendCloseThenCloseSocket(.goingAway))
        let got2 = flushAll(&machine, now: start)
        #expect(got2 == [], "nothing more is written")
        let got3 = machine.socketClosed()
        #expect(got3 == .server(.serverShutdown))
    }

    @Test func aProtocolViolationIsRefusedWithItsCodeAndRemembered() {
        var machine = machine()
        let got1 = machine.protocolViolation(.protocolError, now: start)
        #expect(got1 == .sendCloseThenCloseSocket(.protocolError))
        let got2 = machine.protocolViolation(.protocolError, now: start)
        #expect(got2 == .alreadyClosing)
        let got3 = machine.socketClosed()
        #expect(got3 == .protocolViolation(.protocolError))

        var refused = self.machine()
        refused.refusedByFrameDecoder(.messageTooLarge, now: start)
        #expect(!refused.isHandshakeOpen)
        let got4 = refused.sweep(now: start + .seconds(2), rules: rules)
        #expect(got4 == .forceClose(.closeGraceElapsed))
        let got5 = refused.socketClosed()
        #expect(got5 == .protocolViolation(.messageTooLarge))
    }

    @Test func theEndOfThePeersInputClosesTheSocketOnce() {
        var machine = machine()
        let got1 = machine.inputEnded(now: start)
        #expect(got1)
        let got2 = machine.inputEnded(now: start)
        #expect(!got2)
        let got3 = machine.socketClosed()
        #expect(got3 == .client)
    }

    @Test func closeNowSkipsTheQueueAndTheNotice() {
        var machine = machine()
        _ = machine.enqueue(frame(), now: start)
        let got1 = machine.closeNow(.goingAway, now: start)
        #expect(got1 == .sendCloseThenCloseSocket(.goingAway))
        let got2 = flushAll(&machine, now: start)
        #expect(got2 == [])
    }

    @Test func aSocketThatClosesWhileOpenOrDrainingEndsAsTheClientsOrOurs() {
        var open = machine()
        let got1 = open.socketClosed()
        #expect(got1 == .client)
        var draining = machine()
        _ = draining.requestClose(.replaced, now: start)
        let got2 = draining.socketClosed()
        #expect(got2 == .server(.replaced))
    }

    @Test func drainingForABenchmarkEmptiesTheQueueAndOwesNoFlush() {
        var machine = machine()
        _ = machine.enqueue(frame(), now: start)
        machine.drainForBenchmark()
        let got1 = flushAll(&machine, now: start)
        #expect(got1 == [])
        let got2 = machine.enqueue(frame(), now: start)
        #expect(got2 == .enqueued(scheduleFlush: true))
        #expect(isOpen(machine))
    }
}
