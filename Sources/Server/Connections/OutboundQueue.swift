public import NIOCore

/// One serialized frame on its way to one connection. The bytes are shared:
/// a broadcast's buffer is the same storage for every recipient.
public struct OutboundFrame: Sendable {
    public var bytes: ByteBuffer
    /// For logs and metrics: the frame's `type`, topic and correlation id.
    public var type: String
    public var subscription: String?
    public var correlationId: String

    public init(bytes: ByteBuffer, type: String, subscription: String? = nil, correlationId: String) {
        self.bytes = bytes
        self.type = type
        self.subscription = subscription
        self.correlationId = correlationId
    }
}

/// A connection's bounded outbound queue and its send-failure streak.
/// Fan-out only enqueues; the connection's own writer drains it.
public struct OutboundQueue: Sendable {
    public enum EnqueueResult: Equatable, Sendable {
        case enqueued
        /// The frame did not fit: a send failure. `disconnect` once the streak reaches the threshold.
        case rejected(consecutiveFailures: Int, disconnect: Bool)
    }

    public let maxBytes: Int
    public let maxFrames: Int
    public let failureThreshold: Int
    public private(set) var bytes = 0
    public private(set) var consecutiveFailures = 0
    private var frames = CircularBuffer<OutboundFrame>()

    public init(maxBytes: Int, maxFrames: Int, failureThreshold: Int) {
        self.maxBytes = maxBytes
        self.maxFrames = maxFrames
        self.failureThreshold = failureThreshold
    }

    public var count: Int { frames.count }
    public var isEmpty: Bool { frames.isEmpty }

    public mutating func enqueue(_ frame: OutboundFrame) -> EnqueueResult {
        let size = frame.bytes.readableBytes
        guard frames.count < maxFrames, bytes + size <= maxBytes else {
            return recordFailure()
        }
        frames.append(frame)
        bytes += size
        consecutiveFailures = 0
        return .enqueued
    }

    /// Counts a failure that happened elsewhere (a write past its deadline).
    public mutating func recordFailure() -> EnqueueResult {
        consecutiveFailures += 1
        return .rejected(consecutiveFailures: consecutiveFailures, disconnect: consecutiveFailures >= failureThreshold)
    }

    /// Up to `maxFrames` frames and about `maxBytes` bytes from the front, at least one if any is queued.
    public mutating func dequeueBatch(maxFrames: Int, maxBytes: Int) -> [OutboundFrame] {
        var batch: [OutboundFrame] = []
        var batchBytes = 0
        while let next = frames.first, batch.count < maxFrames, batch.isEmpty || batchBytes + next.bytes.readableBytes <= maxBytes {
            batch.append(frames.removeFirst())
            batchBytes += next.bytes.readableBytes
            bytes -= next.bytes.readableBytes
        }
        return batch
    }

    /// Empties the queue, returning how many frames were dropped.
    public mutating func removeAll() -> Int {
        let dropped = frames.count
        frames.removeAll(keepingCapacity: false)
        bytes = 0
        return dropped
    }
}
