/// Exponential backoff with full jitter: retry n waits a uniform random time in
/// [0, min(cap, initial × factor^n)). The random source is injected for tests.
public struct Backoff: Sendable {
    public var initial: Duration
    public var factor: Double
    public var cap: Duration
    public private(set) var attempt = 0

    public init(initial: Duration = .milliseconds(500), factor: Double = 2, cap: Duration = .seconds(30)) {
        self.initial = initial
        self.factor = factor
        self.cap = cap
    }

    /// The ceiling of the next delay, before jitter.
    public var ceiling: Duration {
        let scaled = Self.seconds(initial) * pow(factor, Double(attempt))
        return .nanoseconds(Int64(min(Self.seconds(cap), scaled) * 1e9))
    }

    /// The next delay; `unit` draws from [0, 1).
    public mutating func nextDelay(unit: () -> Double) -> Duration {
        let delay = Self.seconds(ceiling) * unit()
        attempt += 1
        return .nanoseconds(Int64(delay * 1e9))
    }

    /// After a successful subscribe the schedule starts over.
    public mutating func reset() {
        attempt = 0
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        for _ in 0..<Int(exponent) { result *= base }
        return result
    }
}
