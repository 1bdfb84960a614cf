import NIOCore

/// Correlation ids of REST broadcasts this node delivered itself because their PUBLISH failed.
/// A PUBLISH whose reply timed out may still have been executed by Redis; its copy then comes back
/// through the listener, and is skipped here, so that no client gets the event twice. Bounded in
/// time (`window`) and in count.
struct FallbackDeliveries {
    let window: Duration
    let capacity: Int
    private var deliveredAt: [String: ContinuousClock.Instant] = [:]
    private var order = CircularBuffer<(id: String, at: ContinuousClock.Instant)>()

    init(window: Duration, capacity: Int = 10_000) {
        self.window = window
        self.capacity = capacity
    }

    var count: Int { deliveredAt.count }

    mutating func record(_ id: String, at now: ContinuousClock.Instant) {
        prune(now: now)
        if deliveredAt.count >= capacity, let oldest = order.popFirst() { forget(oldest) }
        deliveredAt[id] = now
        order.append((id, now))
    }

    /// Whether `id` was delivered locally within the window; a match is forgotten (one copy comes back).
    mutating func consume(_ id: String, at now: ContinuousClock.Instant) -> Bool {
        prune(now: now)
        return deliveredAt.removeValue(forKey: id) != nil
    }

    private mutating func prune(now: ContinuousClock.Instant) {
        while let first = order.first, first.at.duration(to: now) > window {
            order.removeFirst()
            forget(first)
        }
    }

    /// Drops an entry unless the id was recorded again since.
    private mutating func forget(_ entry: (id: String, at: ContinuousClock.Instant)) {
        if deliveredAt[entry.id] == entry.at { deliveredAt[entry.id] = nil }
    }
}
