package import GeneratedMessages

/// Where a connection's history and its live stream meet. While the connection's greeting or a
/// topic's recovered events are being prepared, the live frames they must precede are held here;
/// once they are released, a live frame the replay already delivered (at or below the replay's
/// last position) is dropped, so the client gets every event once, in order. Pure: the
/// connection calls it under its lock.
package struct ReplayGate: Sendable {
    /// What becomes of a frame on its way to the queue.
    package enum Admission: Sendable, Equatable {
        case pass
        case hold
        /// A replay delivered it already.
        case drop
        /// More frames are held than the connection may queue: it must be closed as a slow consumer.
        case overflow
    }

    /// Holds every frame, replies included, until the greeting is released.
    package private(set) var holdsEverything: Bool
    package private(set) var holding: Set<Subscription>
    private var held: [OutboundFrame] = []
    /// Per replayed topic: the last position its replay covered; removed at the first live frame past it.
    private var covered: [Subscription: StreamPosition] = [:]
    private let capacity: Int

    /// A gate that holds everything until the greeting: a connection is registered for broadcasts
    /// before its greeting is queued, and `connection_established` must still come first.
    package init(capacity: Int, holdingEverything: Bool = true) {
        self.holdsEverything = holdingEverything
        self.holding = []
        self.capacity = capacity
    }

    /// Whether the gate has nothing to do: the connection's fast path skips it.
    package var isIdle: Bool { !holdsEverything && holding.isEmpty && covered.isEmpty }

    package var heldCount: Int { held.count }

    package mutating func admit(_ frame: OutboundFrame) -> Admission {
        if holdsEverything || frame.stream.map({ holding.contains($0.topic) }) == true {
            guard held.count < capacity else { return .overflow }
            held.append(frame)
            return .hold
        }
        return isCovered(frame) ? .drop : .pass
    }

    /// Starts holding the live frames of `topics` (a `subscribe` that recovers them).
    package mutating func hold(_ topics: Set<Subscription>) {
        holding.formUnion(topics)
    }

    /// Ends the hold of `topics` (and of everything, with `greeting`): returns the frames to queue,
    /// in order: `leading` (the greeting or the `subscription_updated`), each topic's replay, then
    /// the held frames that are now free, less those at or below the positions reported. A replayed
    /// topic stays covered after the release: a replay read from Redis may run ahead of this node's
    /// own delivery, whose frames then come late. A position reported without a replay was read from
    /// this node after its last delivery, so no later frame is at or below it.
    package mutating func release(
        _ topics: Set<Subscription>,
        greeting: Bool,
        leading: [OutboundFrame],
        replays: [Subscription: [OutboundFrame]] = [:],
        covered positions: [Subscription: StreamPosition]
    ) -> [OutboundFrame] {
        for (topic, position) in positions where replays[topic] != nil { covered[topic] = position }
        if greeting { holdsEverything = false }
        holding.subtract(topics)
        var frames = leading
        for topic in SubscriptionRules.sorted(Set(replays.keys)) { frames += replays[topic] ?? [] }
        var stillHeld: [OutboundFrame] = []
        for frame in held {
            if holdsEverything || frame.stream.map({ holding.contains($0.topic) }) == true {
                stillHeld.append(frame)
            } else if !isCovered(frame), !Self.isAtOrBelow(frame, positions) {
                frames.append(frame)
            }
        }
        held = stillHeld
        return frames
    }

    private static func isAtOrBelow(_ frame: OutboundFrame, _ positions: [Subscription: StreamPosition]) -> Bool {
        guard let (topic, position) = frame.stream, let reported = positions[topic] else { return false }
        return !reported.precedes(position)
    }

    /// Whether a replay already covered the frame's position. The first live frame past
    /// a topic's covered position ends the check for that topic: the node delivers in offset order.
    private mutating func isCovered(_ frame: OutboundFrame) -> Bool {
        guard let (topic, position) = frame.stream, let mark = covered[topic] else { return false }
        if mark.precedes(position) {
            covered[topic] = nil
            return false
        }
        return true
    }
}
