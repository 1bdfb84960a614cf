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

    var summary: Summary {
        histogram.withLock { histogram in
            func ms(_ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1_000 }
            return Summary(
                count: histogram.totalCount,
                p50Ms: ms(50),
                p90Ms: ms(90),
                p99Ms: ms(99),
                p999Ms: ms(99.9),
                maxMs: Double(histogram.max) / 1_000
            )
        }
    }
}
