import GeneratedMessages
import HiveOpsGateway
import Testing

/// Where replayed history meets the live stream: held frames, their order on release, and the
/// live frames a replay already delivered.
@Suite struct ReplayGateTests {
    func ids(_ frames: [OutboundFrame]) -> [String] { frames.map(\.correlationId) }

    @Test func holdsEverythingUntilTheGreetingThenQueuesItFirst() {
        var gate = ReplayGate(capacity: 10)
        #expect(gate.admit(.event(.agents, 1)) == .hold)
        #expect(gate.admit(.testing("pong", correlationId: "pong")) == .hold, "replies wait too: the greeting comes first")
        let frames = gate.release(
            [],
            greeting: true,
            leading: [.testing("connection_established", correlationId: "hello")],
            covered: [.agents: StreamPosition(epoch: "e1", offset: 0)]
        )
        #expect(ids(frames) == ["hello", "agents-1", "pong"])
        #expect(gate.isIdle, "nothing was replayed: an idle connection keeps no gate")
        #expect(gate.admit(.event(.agents, 2)) == .pass)
    }

    @Test func replaysGoBeforeHeldFramesAndWhatTheyCoveredIsNotSentAgain() {
        var gate = ReplayGate(capacity: 10)
        _ = gate.release([], greeting: true, leading: [], covered: [:])
        gate.hold([.alerts])
        #expect(gate.admit(.event(.alerts, 5)) == .hold)
        #expect(gate.admit(.event(.alerts, 6)) == .hold)
        #expect(gate.admit(.event(.system, 9)) == .pass, "a topic not recovering flows")
        let frames = gate.release(
            [.alerts],
            greeting: false,
            leading: [.testing("subscription_updated", correlationId: "updated")],
            replays: [.alerts: [.event(.alerts, 3), .event(.alerts, 4), .event(.alerts, 5)]],
            covered: [.alerts: StreamPosition(epoch: "e1", offset: 5)]
        )
        #expect(ids(frames) == ["updated", "alerts-3", "alerts-4", "alerts-5", "alerts-6"])
        #expect(gate.isIdle)
    }

    @Test func heldFramesAtOrBelowTheGreetingsPositionAreNotSent() {
        var gate = ReplayGate(capacity: 10)
        _ = gate.admit(.event(.system, 4))
        _ = gate.admit(.event(.system, 5))
        let frames = gate.release([], greeting: true, leading: [], covered: [.system: StreamPosition(epoch: "e1", offset: 4)])
        #expect(ids(frames) == ["system-5"])
    }

    @Test func aLateLiveFrameTheReplayCoveredIsDropped() {
        var gate = ReplayGate(capacity: 10)
        // The replay came from Redis up to 8; this node has delivered only up to 6 so far.
        _ = gate.release([], greeting: true, leading: [], replays: [.agents: []], covered: [.agents: StreamPosition(epoch: "e1", offset: 8)])
        #expect(gate.admit(.event(.agents, 7)) == .drop)
        #expect(gate.admit(.event(.agents, 8)) == .drop)
        #expect(gate.admit(.event(.agents, 9)) == .pass)
        #expect(gate.isIdle)
        #expect(gate.admit(.event(.agents, 9)) == .pass, "past the covered position no check is left")
    }

    @Test func aNewEpochIsNeverCovered() {
        var gate = ReplayGate(capacity: 10)
        _ = gate.release([], greeting: true, leading: [], covered: [.agents: StreamPosition(epoch: "e1", offset: 8)])
        #expect(gate.admit(.event(.agents, 1, epoch: "e2")) == .pass)
    }

    @Test func framesPastTheCapacityOverflow() {
        var gate = ReplayGate(capacity: 2)
        #expect(gate.admit(.event(.agents, 1)) == .hold)
        #expect(gate.admit(.event(.agents, 2)) == .hold)
        #expect(gate.admit(.event(.agents, 3)) == .overflow)
        #expect(gate.heldCount == 2)
    }

    @Test func otherTopicsStayHeldWhileOneIsReleased() {
        var gate = ReplayGate(capacity: 10, holdingEverything: false)
        gate.hold([.agents, .alerts])
        _ = gate.admit(.event(.agents, 1))
        _ = gate.admit(.event(.alerts, 1))
        #expect(ids(gate.release([.agents], greeting: false, leading: [], covered: [:])) == ["agents-1"])
        #expect(ids(gate.release([.alerts], greeting: false, leading: [], covered: [:])) == ["alerts-1"])
    }
}
