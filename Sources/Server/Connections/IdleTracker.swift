/// When a connection last sent something, and whether it has been quiet too long.
public struct IdleTracker: Sendable {
    public let timeout: Duration
    public private(set) var lastActivity: ContinuousClock.Instant

    public init(timeout: Duration, now: ContinuousClock.Instant) {
        self.timeout = timeout
        self.lastActivity = now
    }

    public mutating func recordActivity(at now: ContinuousClock.Instant) {
        if now > lastActivity { lastActivity = now }
    }

    public func isIdle(at now: ContinuousClock.Instant) -> Bool {
        lastActivity.duration(to: now) >= timeout
    }
}
