/// A token bucket with continuous refill: `rate` tokens a second, at most
/// `capacity` held, starting full. Time is passed in, so tests drive it.
package struct TokenBucket: Sendable {
    package let rate: Double
    package let capacity: Double
    package private(set) var tokens: Double
    private var lastRefill: ContinuousClock.Instant

    package init(rate: Double, capacity: Double, now: ContinuousClock.Instant) {
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.lastRefill = now
    }

    /// Takes one token if there is one.
    package mutating func tryTake(at now: ContinuousClock.Instant) -> Bool {
        refill(at: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// How long until one whole token is available.
    package mutating func timeUntilNextToken(at now: ContinuousClock.Instant) -> Duration {
        refill(at: now)
        guard tokens < 1, rate > 0 else { return .zero }
        return .nanoseconds(Int64(((1 - tokens) / rate * 1e9).rounded(.up)))
    }

    private mutating func refill(at now: ContinuousClock.Instant) {
        guard now > lastRefill else { return }
        tokens = min(capacity, tokens + lastRefill.duration(to: now).seconds * rate)
        lastRefill = now
    }
}
