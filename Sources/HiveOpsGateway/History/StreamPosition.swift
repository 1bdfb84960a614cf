/// A topic's place in the event history: its epoch (one life of the history) and the offset of
/// an event in it. Offsets of one epoch mean nothing in another.
package struct StreamPosition: Sendable, Equatable, Hashable, CustomStringConvertible {
    package var epoch: String
    package var offset: Int

    package init(epoch: String, offset: Int) {
        self.epoch = epoch
        self.offset = offset
    }

    package var description: String { "\(epoch)/\(offset)" }

    /// Whether an event at `other` comes after this position: in this epoch and at a later offset,
    /// or in another epoch at all (the history began anew, so nothing of it was seen).
    package func precedes(_ other: StreamPosition) -> Bool {
        other.epoch != epoch || other.offset > offset
    }
}
