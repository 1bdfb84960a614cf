import GeneratedMessages
import HiveOpsGateway
import NIOCore
import Testing

/// One topic's log on a node: bounded by count and by age, and a replay only when it holds every
/// missed event. Time is injected: no clock is read.
@Suite struct TopicLogTests {
    let start = ContinuousClock.now
    var settings: HistorySettings {
        var settings = HistorySettings()
        settings.size = 5
        settings.maxAge = .seconds(60)
        return settings
    }

    func log(_ offsets: ClosedRange<Int>, epoch: String = "e1", every step: Duration = .seconds(1)) -> TopicLog {
        var log = TopicLog()
        for offset in offsets {
            log.append(
                .event(.agents, offset, epoch: epoch),
                at: StreamPosition(epoch: epoch, offset: offset),
                now: start + step * offset,
                settings: settings
            )
        }
        return log
    }

    func offsets(_ replay: TopicLog.Replay) -> [Int]? {
        guard case .frames(let frames, _) = replay else { return nil }
        return frames.compactMap { $0.stream?.position.offset }
    }

    @Test func keepsAtMostSizeEventsAndCountsTheirBytes() {
        let log = log(1...8)
        #expect(log.kept.map(\.offset) == [4, 5, 6, 7, 8])
        #expect(log.bytes == log.kept.reduce(0) { $0 + $1.frame.wire.readableBytes })
        #expect(log.position == StreamPosition(epoch: "e1", offset: 8))
    }

    @Test func replaysEveryEventAfterTheOffsetOnlyWhenItHoldsThemAll() {
        var log = log(1...8)
        let now = start + .seconds(9)
        #expect(offsets(log.replay(after: 5, epoch: "e1", now: now, settings: settings)) == [6, 7, 8])
        #expect(offsets(log.replay(after: 3, epoch: "e1", now: now, settings: settings)) == [4, 5, 6, 7, 8])
        #expect(offsets(log.replay(after: 8, epoch: "e1", now: now, settings: settings)) == [])
        // 3 is gone (the size bound): events 3 and later cannot all be replayed.
        guard case .notHeld = log.replay(after: 2, epoch: "e1", now: now, settings: settings) else {
            Issue.record("2 is past the history")
            return
        }
        guard case .ahead = log.replay(after: 9, epoch: "e1", now: now, settings: settings) else {
            Issue.record("9 is after the last")
            return
        }
        guard case .notHeld = log.replay(after: 5, epoch: "e0", now: now, settings: settings) else {
            Issue.record("another epoch")
            return
        }
    }

    @Test func dropsWhatIsOlderThanTheAge() {
        var log = log(1...3, every: .seconds(30))
        // At 95 s, event 1 (30 s) is 65 s old, event 2 (60 s) 35 s.
        #expect(offsets(log.replay(after: 1, epoch: "e1", now: start + .seconds(95), settings: settings)) == [2, 3])
        guard case .notHeld = log.replay(after: 0, epoch: "e1", now: start + .seconds(95), settings: settings) else {
            Issue.record("event 1 aged out")
            return
        }
        log.trim(now: start + .seconds(200), settings: settings)
        #expect(log.kept.isEmpty)
        #expect(log.bytes == 0)
        #expect(log.position?.offset == 3, "the position outlives the events")
    }

    @Test func aHoleMeansTheNodeDoesNotHoldTheRun() {
        var log = log(1...2)
        log.append(.event(.agents, 4), at: StreamPosition(epoch: "e1", offset: 4), now: start + .seconds(4), settings: settings)
        guard case .notHeld = log.replay(after: 1, epoch: "e1", now: start + .seconds(5), settings: settings) else {
            Issue.record("3 never reached this node")
            return
        }
        #expect(offsets(log.replay(after: 3, epoch: "e1", now: start + .seconds(5), settings: settings)) == [4])
    }

    @Test func aNewEpochDropsTheOldOneAndPositionsOnlyMoveForward() {
        var log = log(1...3)
        log.advance(to: StreamPosition(epoch: "e1", offset: 2))
        #expect(log.position?.offset == 3)
        log.append(.event(.agents, 1, epoch: "e2"), at: StreamPosition(epoch: "e2", offset: 1), now: start + .seconds(5), settings: settings)
        #expect(log.kept.map(\.offset) == [1])
        #expect(log.position == StreamPosition(epoch: "e2", offset: 1))
        #expect(log.next(epoch: "e2") == StreamPosition(epoch: "e2", offset: 2))
        // A late event of the same epoch (recorded elsewhere before this node read the position) is not kept.
        log.advance(to: StreamPosition(epoch: "e2", offset: 10))
        log.append(.event(.agents, 7, epoch: "e2"), at: StreamPosition(epoch: "e2", offset: 7), now: start + .seconds(6), settings: settings)
        #expect(log.kept.map(\.offset) == [1])
        #expect(log.position?.offset == 10)
    }

    @Test func framesReadBackFromRedisAreKeptWhereTheyJoinTheRun() {
        // A node that started after events 1-6: it knows the position, and holds 5 and 6 only.
        var log = TopicLog()
        log.advance(to: StreamPosition(epoch: "e1", offset: 4))
        for offset in 5...6 {
            log.append(.event(.agents, offset), at: StreamPosition(epoch: "e1", offset: offset), now: start, settings: settings)
        }
        log.backfill((2...4).map { .event(.agents, $0) }, through: StreamPosition(epoch: "e1", offset: 6), now: start, settings: settings)
        #expect(log.kept.map(\.offset) == [2, 3, 4, 5, 6])
        #expect(offsets(log.replay(after: 1, epoch: "e1", now: start, settings: settings)) == [2, 3, 4, 5, 6])
        // A read that leaves a hole before the kept run is not kept.
        var holed = TopicLog()
        holed.append(.event(.agents, 9), at: StreamPosition(epoch: "e1", offset: 9), now: start, settings: settings)
        holed.backfill((2...4).map { .event(.agents, $0) }, through: StreamPosition(epoch: "e1", offset: 9), now: start, settings: settings)
        #expect(holed.kept.map(\.offset) == [9])
    }

    @Test func sizeZeroKeepsNothingButTheNumbering() {
        var settings = settings
        settings.size = 0
        var log = TopicLog()
        log.append(.event(.agents, 1), at: StreamPosition(epoch: "e1", offset: 1), now: start, settings: settings)
        #expect(log.kept.isEmpty)
        #expect(log.next(epoch: "e1").offset == 2)
    }
}
