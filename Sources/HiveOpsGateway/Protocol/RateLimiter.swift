/// The per-connection inbound rate limit: a token bucket, one notice per
/// cooldown window however long a flood lasts, and an abuse verdict for a
/// flood that outlasts the abuse window.
package struct RateLimiter: Sendable {
    package enum Verdict: Equatable, Sendable {
        /// Process the message.
        case accepted
        /// Drop the message; when `notify` is set, tell the client once, with the wait until the next token.
        case rejected(notify: Bool, retryAfter: Duration)
        /// The client has flooded for longer than the abuse window: disconnect it.
        case abusive
    }

    private var bucket: TokenBucket
    private let cooldown: Duration
    private let abuseWindow: Duration?
    private var lastNotice: ContinuousClock.Instant?
    private var floodStart: ContinuousClock.Instant?
    private var lastRejection: ContinuousClock.Instant?

    /// - Parameter abuseWindow: nil never disconnects.
    package init(rate: Double, burst: Int, cooldown: Duration, abuseWindow: Duration?, now: ContinuousClock.Instant) {
        self.bucket = TokenBucket(rate: rate, capacity: Double(burst), now: now)
        self.cooldown = cooldown
        self.abuseWindow = abuseWindow
    }

    package mutating func admit(at now: ContinuousClock.Instant) -> Verdict {
        if bucket.tryTake(at: now) { return .accepted }
        // A flood is one run of rejections with no quiet gap as long as the cooldown.
        let continuesFlood = lastRejection.map { $0.duration(to: now) <= cooldown } ?? false
        if !continuesFlood { floodStart = now }
        lastRejection = now
        if let abuseWindow, let floodStart, floodStart.duration(to: now) >= abuseWindow {
            return .abusive
        }
        let notify: Bool
        if let lastNotice, lastNotice.duration(to: now) < cooldown {
            notify = false
        } else {
            notify = true
            lastNotice = now
        }
        return .rejected(notify: notify, retryAfter: bucket.timeUntilNextToken(at: now))
    }
}
