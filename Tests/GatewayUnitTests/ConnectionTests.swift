import GeneratedMessages
import Logging
import NIOCore
import TestSupport
import Testing

@testable import HiveOpsGateway

/// The connection performs its machine's actions on the socket hooks: flushes scheduled once,
/// closes outright, and nothing once it is finished. The transitions themselves are
/// `ConnectionStateMachineTests`'.
@Suite struct ConnectionTests {
    let start = ContinuousClock.now
    let rules = ConnectionStateMachine.SweepRules(writeDeadline: .seconds(5), closeGrace: .seconds(2), pingInterval: .seconds(30))

    func makeConnection(
        idle: Duration = .seconds(600),
        forceClosed: SendableFlag = SendableFlag(),
        flushes: SendableCounter = SendableCounter()
    ) -> Connection {
        Connection.testing(
            idle: idle,
            now: start,
            hooks: Connection.SocketHooks(eventLoop: nil, onLoop: { _ in flushes.increment() }, forceClose: { forceClosed.set() })
        )
    }

    @Test func anEnqueueSchedulesOneFlushUntilTheQueueIsDrained() {
        let flushes = SendableCounter()
        let connection = makeConnection(flushes: flushes)
        #expect(connection.enqueue(.testing(), now: start) == .enqueued)
        #expect(connection.enqueue(.testing(), now: start) == .enqueued)
        #expect(flushes.count == 1)
        guard case .write(let frames) = connection.withMachine({ $0.nextFlush(writable: true, now: start) }) else {
            Issue.record("no write")
            return
        }
        #expect(frames.count == 2)
        guard case .done = connection.withMachine({ $0.nextFlush(writable: true, now: start) }) else {
            Issue.record("not done")
            return
        }
        _ = connection.enqueue(.testing(), now: start)
        #expect(flushes.count == 2)
    }

    @Test func theSweepSchedulesTheFlushItsCloseOrPingNeeds() {
        let flushes = SendableCounter()
        let connection = makeConnection(idle: .seconds(45), flushes: flushes)
        #expect(connection.sweep(now: start + .seconds(30), rules: rules) == .sendPing(scheduleFlush: true))
        #expect(flushes.count == 1)
        _ = connection.withMachine { $0.nextFlush(writable: true, now: start + .seconds(30)) }
        _ = connection.withMachine { $0.nextFlush(writable: true, now: start + .seconds(30)) }
        #expect(connection.sweep(now: start + .seconds(45), rules: rules) == .close(.idle, scheduleFlush: true))
        #expect(flushes.count == 2)
        #expect(connection.requestClose(.serverShutdown) == false, "the idle close came first")
    }

    @Test func theSweepClosesASilentPeerOutright() {
        let flag = SendableFlag()
        let connection = makeConnection(forceClosed: flag)
        _ = connection.sweep(now: start + .seconds(30), rules: rules)
        _ = connection.withMachine { $0.nextFlush(writable: true, now: start + .seconds(30)) }
        #expect(!flag.isSet)
        #expect(connection.sweep(now: start + .seconds(60), rules: rules) == .forceClose(.pingTimeout))
        #expect(flag.isSet)
    }

    @Test func aFinishedConnectionLetsGoOfItsSocket() {
        let flag = SendableFlag()
        let flushes = SendableCounter()
        let connection = makeConnection(forceClosed: flag, flushes: flushes)
        #expect(connection.markFinished() == .client)
        #expect(connection.enqueue(.testing()) == .notOpen)
        #expect(connection.requestClose(.serverShutdown) == false)
        connection.forceClose()
        #expect(!flag.isSet, "the hooks were dropped")
        #expect(flushes.count == 0)
    }
}
