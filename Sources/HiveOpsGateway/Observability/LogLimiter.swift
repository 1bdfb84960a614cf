import Synchronization

/// Lets one log line of each kind through per interval, so that a flood of
/// bad messages cannot flood the log.
package struct LogLimiter {
    package let interval: Duration
    private var lastLogged: [String: ContinuousClock.Instant] = [:]

    package init(interval: Duration) {
        self.interval = interval
    }

    package mutating func allow(_ kind: String, at now: ContinuousClock.Instant) -> Bool {
        if let last = lastLogged[kind], last.duration(to: now) < interval { return false }
        lastLogged[kind] = now
        return true
    }
}

/// A `LogLimiter` shared by concurrent requests.
final class SharedLogLimiter: Sendable {
    private let limiter: Mutex<LogLimiter>

    init(interval: Duration) {
        limiter = Mutex(LogLimiter(interval: interval))
    }

    func allow(_ kind: String, at now: ContinuousClock.Instant = .now) -> Bool {
        limiter.withLock { $0.allow(kind, at: now) }
    }
}
