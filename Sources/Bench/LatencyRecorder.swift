import Histogram
import Synchronization

/// Publish→receive latencies in an HdrHistogram (microseconds, 3 significant digits).
final class LatencyRecorder: Sendable {
    private let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three))

    func record(nanoseconds: Int) {
        let microseconds = UInt64(min(nanoseconds / 1_000, 60_000_000))
        histogram.withLock { _ = $0.record(microseconds) }
    }

    struct Summary: Codable, Sendable {
        var count: UInt64
        var p50Ms: Double
        var p90Ms: Double
        var p99Ms: Double
        var p999Ms: Double
        var maxMs: Double
    }

    var summary: Summary { Self.summary(of: [self]) }

    /// The latencies of several recorders together (the raw reader keeps one per thread, so that
    /// its threads do not pass one lock's cache line back and forth for every frame).
    static func summary(of recorders: [LatencyRecorder]) -> Summary {
        var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        for recorder in recorders { recorder.histogram.withLock { merged.add($0) } }
        func ms(_ percentile: Double) -> Double { Double(merged.valueAtPercentile(percentile)) / 1_000 }
        return Summary(
            count: merged.totalCount,
            p50Ms: ms(50),
            p90Ms: ms(90),
            p99Ms: ms(99),
            p999Ms: ms(99.9),
            maxMs: Double(merged.max) / 1_000
        )
    }
}
