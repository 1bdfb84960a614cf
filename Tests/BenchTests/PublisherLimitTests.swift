import Testing

@testable import Bench

/// When the run's pace was the publisher's, the report says so: its figures then bound the
/// gateway from below instead of measuring it.
@Suite struct PublisherLimitTests {
    @Test func atAFixedRateThePublisherLimitsWhenItFallsBehindTheRate() {
        #expect(Report.publisherWasTheLimit(requestedRate: 50_000, publishRate: 30_000, gatewayWaitFraction: 0))
        #expect(!Report.publisherWasTheLimit(requestedRate: 50, publishRate: 49.9, gatewayWaitFraction: 0))
    }

    @Test func inTheClosedLoopThePublisherLimitsWhenTheGatewayNeverMadeItWait() {
        #expect(Report.publisherWasTheLimit(requestedRate: 0, publishRate: 40, gatewayWaitFraction: 0.01))
        #expect(!Report.publisherWasTheLimit(requestedRate: 0, publishRate: 40, gatewayWaitFraction: 0.6))
    }
}
