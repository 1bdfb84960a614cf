import NIOCore

/// A connection's bounded outbound queue and its send-failure streak.
/// Fan-out only enqueues; the connection's own writer drains it.
package struct OutboundQueue: Sendable {
    package enum EnqueueResult: Equatable, Sendable {
        case enqueued
        /// The frame did not fit: a send failure. `disconnect` once the streak reaches the threshold.
        case rejected(consecutiveFailures: Int, disconnect: Bool)
    }

    package let maxBytes: Int
    package let maxFrames: Int
    package let failureThreshold: Int
    package private(set) var bytes = 0
    package private(set) var consecutiveFailures = 0
    /// Small until needed: most connections hold a frame or two at a time.
    private var frames = CircularBuffer<OutboundFrame>(initialCapacity: Self.idleCapacity)
    private static let idleCapacity = 4

    package init(maxBytes: Int, maxFrames: Int, failureThreshold: Int) {
        self.maxBytes = maxBytes
        self.maxFrames = maxFrames
        self.failureThreshold = failureThreshold
    }

    package var count: Int { frames.count }
    package var isEmpty: Bool { frames.isEmpty }

    package mutating func enqueue(_ frame: OutboundFrame) -> EnqueueResult {
        let size = frame.bytes.readableBytes
        guard frames.count < maxFrames, bytes + size <= maxBytes else {
            return recordFailure()
        }
        frames.append(frame)
        bytes += size
        consecutiveFailures = 0
        return .enqueued
    }

    /// A frame went out past the queue (written at once): the failure streak ends, as an enqueue ends it.
    package mutating func recordDelivery() {
        consecutiveFailures = 0
    }

    /// Counts a failure that happened elsewhere (a write past its deadline).
    package mutating func recordFailure() -> EnqueueResult {
        consecutiveFailures += 1
        return .rejected(consecutiveFailures: consecutiveFailures, disconnect: consecutiveFailures >= failureThreshold)
    }

    /// Up to `maxFrames` frames and about `maxBytes` bytes from the front, at least one if any is queued.
    package mutating func dequeueBatch(maxFrames: Int, maxBytes: Int) -> [OutboundFrame] {
        var batch: [OutboundFrame] = []
        var batchBytes = 0
        while let next = frames.first, batch.count < maxFrames, batch.isEmpty || batchBytes + next.bytes.readableBytes <= maxBytes {
            batch.append(frames.removeFirst())
            batchBytes += next.bytes.readableBytes
            bytes -= next.bytes.readableBytes
        }
        // A burst grew the ring: give the memory back once it is drained.
        if frames.isEmpty, frames.capacity > 64 { frames = CircularBuffer(initialCapacity: Self.idleCapacity) }
        return batch
    }

    /// Empties the queue, returning how many frames were dropped.
    package mutating func removeAll() -> Int {
        let dropped = frames.count
        frames = CircularBuffer(initialCapacity: Self.idleCapacity)
        bytes = 0
        return dropped
    }
}
