import HiveOpsGateway
import Testing

/// The token bucket and the rate limiter, driven by an injected clock.
@Suite struct RateLimitTests {
    let start = ContinuousClock.now

    @Test func bucketStartsFullAndEmptiesAfterTheBurst() {
        var bucket = TokenBucket(rate: 20, capacity: 40, now: start)
        let taken = (0..<60).filter { _ in bucket.tryTake(at: start) }.count
        #expect(taken == 40)
    }

    @Test func bucketRefillsContinuously() {
        var bucket = TokenBucket(rate: 20, capacity: 40, now: start)
        for _ in 0..<40 { _ = bucket.tryTake(at: start) }
        let at49 = bucket.tryTake(at: start + .milliseconds(49))
        let at50 = bucket.tryTake(at: start + .milliseconds(50))
        let again = bucket.tryTake(at: start + .milliseconds(50))
        let wait = bucket.timeUntilNextToken(at: start + .milliseconds(60))
        #expect(!at49)
        #expect(at50)
        #expect(!again)
        #expect(wait == .milliseconds(40))
    }

    @Test func bucketIsCappedAtItsCapacity() {
        var bucket = TokenBucket(rate: 20, capacity: 40, now: start)
        _ = bucket.tryTake(at: start)
        let later = start + .seconds(3600)
        #expect((0..<100).filter { _ in bucket.tryTake(at: later) }.count == 40)
    }

    @Test func firstRejectionNotifiesAndLaterOnesInTheCooldownDoNot() {
        var limiter = RateLimiter(rate: 20, burst: 40, cooldown: .seconds(5), abuseWindow: nil, now: start)
        for _ in 0..<40 {
            let verdict = limiter.admit(at: start)
            #expect(verdict == .accepted)
        }
        let first = limiter.admit(at: start)
        #expect(first == .rejected(notify: true, retryAfter: .milliseconds(50)))
        for _ in 0..<19 {
            guard case .rejected(let notify, _) = limiter.admit(at: start) else {
                Issue.record("expected a rejection")
                return
            }
            #expect(notify == false)
        }
    }

    @Test func aNewNoticeAfterTheCooldown() {
        var limiter = RateLimiter(rate: 1, burst: 1, cooldown: .seconds(5), abuseWindow: nil, now: start)
        let accepted = limiter.admit(at: start)
        let rejected = limiter.admit(at: start)
        #expect(accepted == .accepted)
        #expect(rejected == .rejected(notify: true, retryAfter: .seconds(1)))
        // Tokens come back but the flood goes on: a rejection 4 s later stays silent, 5 s later it is told again.
        var notices = 0
        var now = start
        for _ in 0..<100 {
            now += .milliseconds(100)
            if case .rejected(true, _) = limiter.admit(at: now) { notices += 1 }
        }
        #expect(notices == 2)
    }

    @Test func floodingPastTheAbuseWindowIsAbusive() {
        var limiter = RateLimiter(rate: 20, burst: 40, cooldown: .seconds(5), abuseWindow: .seconds(30), now: start)
        var now = start
        var verdict = RateLimiter.Verdict.accepted
        // 100 messages a second, five times the rate, for up to 40 s.
        for _ in 0..<4_000 {
            now += .milliseconds(10)
            verdict = limiter.admit(at: now)
            if verdict == .abusive { break }
        }
        #expect(verdict == .abusive)
        let elapsed = start.duration(to: now)
        #expect(elapsed >= .seconds(30) && elapsed < .seconds(31))
    }

    @Test func aQuietGapEndsTheFlood() {
        var limiter = RateLimiter(rate: 20, burst: 40, cooldown: .seconds(5), abuseWindow: .seconds(30), now: start)
        var now = start
        for round in 0..<4 {
            // 20 s of flooding, then 6 s of quiet: never 30 s in one run.
            for _ in 0..<2_000 {
                now += .milliseconds(10)
                let verdict = limiter.admit(at: now)
                #expect(verdict != .abusive, "round \(round)")
            }
            now += .seconds(6)
        }
    }
}
