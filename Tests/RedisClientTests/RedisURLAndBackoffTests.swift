import RedisClient
import Testing

@Suite struct RedisURLTests {
    @Test func parsesEveryPart() throws {
        #expect(try RedisURL(parsing: "redis://127.0.0.1:6379") == RedisURL(host: "127.0.0.1", port: 6379))
        #expect(try RedisURL(parsing: "redis://:s3cret@cache:6380/2") == RedisURL(host: "cache", port: 6380, password: "s3cret", database: 2))
        #expect(try RedisURL(parsing: "redis://ops:p%40ss@cache:6380/") == RedisURL(host: "cache", port: 6380, user: "ops", password: "p@ss"))
    }

    @Test(arguments: [
        "http://cache:6379", "redis://cache", "redis://:6379", "redis://cache:0", "redis://cache:99999", "redis://cache:6379/x", "redis://u:p%zz@h:1",
    ])
    func refusesMalformedURLs(_ text: String) {
        #expect(throws: RedisURL.ParseError.self) { try RedisURL(parsing: text) }
    }

    @Test func descriptionNeverShowsThePassword() throws {
        let url = try RedisURL(parsing: "redis://ops:hunter2@cache:6380/1")
        #expect(url.description == "redis://ops:***@cache:6380/1")
        #expect(!"\(url)".contains("hunter2"))
    }
}

@Suite struct BackoffTests {
    @Test func fullJitterUnderADoublingCeilingWithACap() {
        var backoff = Backoff(initial: .milliseconds(500), factor: 2, cap: .seconds(30))
        let ceilings = (0..<9).map { _ -> Duration in
            let ceiling = backoff.ceiling
            _ = backoff.nextDelay { 0.5 }
            return ceiling
        }
        #expect(
            ceilings == [
                .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30), .seconds(30), .seconds(30),
            ]
        )
    }

    @Test func theRandomSourceChoosesWithinTheCeiling() {
        var low = Backoff()
        var high = Backoff()
        #expect(low.nextDelay { 0 } == .zero)
        #expect(high.nextDelay { 0.999 } == .milliseconds(499.5))
    }

    @Test func resetStartsOver() {
        var backoff = Backoff()
        for _ in 0..<5 { _ = backoff.nextDelay { 1 } }
        backoff.reset()
        #expect(backoff.ceiling == .milliseconds(500))
    }
}
