import Testing

@testable import HiveOpsGateway

/// The record of broadcasts delivered locally after a failed PUBLISH, with an injected clock.
@Suite struct FallbackDeliveriesTests {
    let start = ContinuousClock.now

    /// Which of `ids` are skipped at `offset` seconds, in order (each check consumes a match).
    func skipped(_ ids: [String], at offset: Int, in deliveries: inout FallbackDeliveries) -> [String] {
        ids.filter { deliveries.consume($0, at: start + .seconds(offset)) }
    }

    @Test func aRecordedIdIsSkippedOnceWithinTheWindow() {
        var deliveries = FallbackDeliveries(window: .seconds(3))
        deliveries.record("a", at: start)
        #expect(skipped(["b", "a", "a"], at: 1, in: &deliveries) == ["a"], "one copy comes back")
    }

    @Test func entriesExpireAfterTheWindow() {
        var deliveries = FallbackDeliveries(window: .seconds(3))
        deliveries.record("a", at: start)
        deliveries.record("b", at: start + .seconds(2))
        #expect(skipped(["a", "b"], at: 4, in: &deliveries) == ["b"])
        #expect(deliveries.count == 0)
    }

    @Test func theCountIsBoundedOldestFirst() {
        var deliveries = FallbackDeliveries(window: .seconds(60), capacity: 2)
        for id in ["a", "b", "c"] { deliveries.record(id, at: start) }
        #expect(deliveries.count == 2)
        #expect(skipped(["a", "b", "c"], at: 0, in: &deliveries) == ["b", "c"])
    }

    @Test func aRepeatedIdKeepsItsLatestTime() {
        var deliveries = FallbackDeliveries(window: .seconds(3))
        deliveries.record("a", at: start)
        deliveries.record("a", at: start + .seconds(2))
        #expect(skipped(["a"], at: 4, in: &deliveries) == ["a"], "the second record is still inside the window")
    }
}
