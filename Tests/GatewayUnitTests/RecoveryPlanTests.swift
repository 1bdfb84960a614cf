import GeneratedMessages
import HiveOpsGateway
import Testing

@Suite struct RecoveryPlanTests {
    @Test func theQueryIsReadLiberallyAndBadEntriesAreNamed() {
        let (plan, invalid) = RecoveryPlan.fromQuery(epoch: "e1", offsets: " agents:12 ,alerts:0,,bogus:3,system:-1,tasks:x,coordination")
        #expect(plan == RecoveryPlan(epoch: "e1", offsets: [.agents: 12, .alerts: 0]))
        #expect(invalid == ["bogus:3", "system:-1", "tasks:x", "coordination"])
    }

    @Test func nothingToRecoverWithoutOffsets() {
        #expect(RecoveryPlan.fromQuery(epoch: "e1", offsets: nil).plan == nil)
        #expect(RecoveryPlan.fromQuery(epoch: "e1", offsets: "bogus:1").plan == nil)
        // Offsets without an epoch ask for recovery, which an epoch of "" can never give.
        #expect(RecoveryPlan.fromQuery(epoch: nil, offsets: "agents:1").plan == RecoveryPlan(epoch: "", offsets: [.agents: 1]))
    }

    @Test func aSubscribesRecoverTakesKnownTopicsOnly() {
        let (plan, invalid) = RecoveryPlan.from(RecoveryRequest(epoch: "e1", offsets: ["alerts": 4, "nope": 1, "tasks": -2]))
        #expect(plan == RecoveryPlan(epoch: "e1", offsets: [.alerts: 4]))
        #expect(invalid == ["nope:1", "tasks:-2"])
        #expect(plan?.restricted(to: [.agents]).offsets.isEmpty == true)
    }
}
