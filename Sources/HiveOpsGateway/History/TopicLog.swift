package import NIOCore

/// One topic's recent frames on this node, as they were delivered (the same `OutboundFrame`
/// objects, so a replay serializes nothing), and the topic's position: the offset of the last
/// event this node delivered. Bounded in count and age. Pure: time comes in with each call.
package struct TopicLog: Sendable {
    package struct Kept: Sendable {
        package var offset: Int
        package var at: ContinuousClock.Instant
        package var frame: OutboundFrame
    }

    /// What a replay from this log gives.
    package enum Replay: Sendable {
        /// Every event after the asked offset, in order (none when the offset is the last one).
        case frames([OutboundFrame], through: StreamPosition)
        /// Some of them are not here (too old, or this node never heard them), or the epoch is not this log's.
        case notHeld
        /// The asked offset is past the last event of this epoch.
        case ahead
    }

    package private(set) var position: StreamPosition?
    package private(set) var kept = CircularBuffer<Kept>()
    /// The bytes of the kept frames (their wire form).
    package private(set) var bytes = 0

    package init(position: StreamPosition? = nil) {
        self.position = position
    }

    /// The next offset of this log's epoch, for a single node that numbers its own events.
    package func next(epoch: String) -> StreamPosition {
        guard let position, position.epoch == epoch else { return StreamPosition(epoch: epoch, offset: 1) }
        return StreamPosition(epoch: epoch, offset: position.offset + 1)
    }

    /// Moves the position forward (Redis says where the topic stands at start, or an event came
    /// without a frame to keep); never back. A new epoch drops what was kept of the old one.
    package mutating func advance(to position: StreamPosition) {
        guard self.position?.precedes(position) ?? true else { return }
        if position.epoch != self.position?.epoch { drop() }
        self.position = position
    }

    /// Records a delivered event. It is kept only when it moves the position on: an event this node
    /// delivers late (recorded by another node before this one read the topic's position) still
    /// reached its subscribers, but a replay of it comes from Redis.
    package mutating func append(_ frame: OutboundFrame, at position: StreamPosition, now: ContinuousClock.Instant, settings: HistorySettings) {
        guard self.position?.precedes(position) ?? true else { return }
        advance(to: position)
        guard settings.size > 0 else { return }
        kept.append(Kept(offset: position.offset, at: now, frame: frame))
        bytes += frame.wire.readableBytes
        trim(now: now, settings: settings)
    }

    /// Keeps frames read back from Redis (`frames`, contiguous offsets), when they join the kept run
    /// without a hole: later recoveries of the same span are then served from memory. They are kept
    /// as if delivered `now`.
    package mutating func backfill(_ frames: [OutboundFrame], through: StreamPosition, now: ContinuousClock.Instant, settings: HistorySettings) {
        let offsets = frames.compactMap { $0.stream?.position.offset }
        guard settings.size > 0, let first = offsets.first, let last = offsets.last, offsets.count == last - first + 1 else { return }
        advance(to: through)
        guard position?.epoch == through.epoch else { return }
        let later = kept.filter { $0.offset > last }
        // A hole between the frames read and what this node kept since: nothing to join.
        if let next = later.first, next.offset != last + 1 { return }
        if later.isEmpty, let top = position?.offset, top != last { return }
        kept = CircularBuffer(zip(offsets, frames).map { Kept(offset: $0, at: now, frame: $1) } + later)
        bytes = kept.reduce(0) { $0 + $1.frame.wire.readableBytes }
        trim(now: now, settings: settings)
    }

    /// The events after `offset` of `epoch`, when this log holds every one of them.
    package mutating func replay(after offset: Int, epoch: String, now: ContinuousClock.Instant, settings: HistorySettings) -> Replay {
        trim(now: now, settings: settings)
        guard let position, position.epoch == epoch else { return .notHeld }
        if offset > position.offset { return .ahead }
        if offset == position.offset { return .frames([], through: position) }
        // Held only when the kept run ends at the position and has no hole after `offset`.
        guard let first = kept.first, first.offset <= offset + 1, kept.last?.offset == position.offset else { return .notHeld }
        let wanted = kept.filter { $0.offset > offset }
        guard wanted.count == position.offset - offset else { return .notHeld }
        return .frames(wanted.map(\.frame), through: position)
    }

    /// Drops what is past the size or the age.
    package mutating func trim(now: ContinuousClock.Instant, settings: HistorySettings) {
        while let first = kept.first, kept.count > settings.size || first.at.duration(to: now) > settings.maxAge {
            bytes -= first.frame.wire.readableBytes
            kept.removeFirst()
        }
    }

    private mutating func drop() {
        kept.removeAll()
        bytes = 0
    }
}
