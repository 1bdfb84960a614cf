/// A pub/sub push as it came off the socket, with when it was decoded: the consumer reads the
/// stream later, and the gap between the two is the time an event waited to be processed.
public struct RedisPush: Sendable {
    public var value: RESPValue
    /// When the channel handler decoded it, on the connection's event loop.
    public var receivedAt: ContinuousClock.Instant

    public init(value: RESPValue, receivedAt: ContinuousClock.Instant) {
        self.value = value
        self.receivedAt = receivedAt
    }
}
