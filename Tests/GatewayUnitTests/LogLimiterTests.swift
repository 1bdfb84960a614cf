import HiveOpsGateway
import Testing

/// A flood of bad messages cannot flood the log: one line of each kind per minute per connection.
@Suite struct LogLimiterTests {
    @Test func oneLineOfEachKindPerInterval() {
        let start = ContinuousClock.now
        var limiter = LogLimiter(interval: .seconds(60))
        let first = limiter.allow("unknown_type", at: start)
        let again = limiter.allow("unknown_type", at: start + .seconds(59))
        let otherKind = limiter.allow("invalid_subscriptions", at: start + .seconds(1))
        let nextMinute = limiter.allow("unknown_type", at: start + .seconds(60))
        #expect(first && !again && otherKind && nextMinute)
    }
}
