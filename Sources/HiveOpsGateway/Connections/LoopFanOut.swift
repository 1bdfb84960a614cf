package import NIOCore
import Prometheus
import Synchronization

/// One event loop's share of the fan-out. A broadcast is handed over from whichever thread
/// routed it (the Redis loop, a request's) as one frame and the recipients this loop serves; the
/// loop delivers it to them itself, so the routing thread does work per loop, not per recipient,
/// and the loop starts writing at once. Broadcasts handed over before the loop gets to them are
/// delivered together: each recipient queues them all and writes them in one go.
package final class LoopFanOut: Sendable {
    /// One broadcast for this loop's recipients.
    struct Delivery: Sendable {
        let frame: OutboundFrame
        let recipients: [Connection]
        /// Counts the loops that have delivered the broadcast, when its fan-out is timed.
        let done: Countdown?
    }

    private struct Pending {
        var deliveries: [Delivery] = []
        /// A drain task is on the loop's queue and has not taken the deliveries yet.
        var drainScheduled = false
    }

    package let eventLoop: any EventLoop
    private let pending = Mutex(Pending())
    private let metrics: GatewayMetrics

    init(eventLoop: any EventLoop, metrics: GatewayMetrics) {
        self.eventLoop = eventLoop
        self.metrics = metrics
    }

    /// Hands a broadcast to the loop. Called in the order the topic's events are recorded: the loop
    /// delivers them in that order, and before any task submitted to it afterwards.
    func hand(_ delivery: Delivery) {
        let schedule = pending.withLock { pending -> Bool in
            pending.deliveries.append(delivery)
            if pending.drainScheduled { return false }
            pending.drainScheduled = true
            return true
        }
        if schedule { eventLoop.execute { self.drain() } }
    }

    /// On the loop: delivers what was handed over since the last drain.
    private func drain() {
        let deliveries = pending.withLock { pending -> [Delivery] in
            pending.drainScheduled = false
            let taken = pending.deliveries
            pending.deliveries = []
            return taken
        }
        let now = ContinuousClock.now
        if deliveries.count == 1 {
            // The fixed-rate case: one event, most recipients idle, each written at once.
            let frame = deliveries[0].frame
            var written = 0
            // As unmanaged references, which the delivery's array holds for the whole drain: a
            // connection is not retained and released per frame (a `for` over the array, or over its
            // buffer, does both, atomics on a line this loop last touched a frame ago).
            deliveries[0].recipients.withUnsafeBufferPointer { connections in
                connections.withMemoryRebound(to: Unmanaged<Connection>.self) { recipients in
                    for recipient in recipients {
                        switch recipient._withUnsafeGuaranteedRef({ $0.deliverLive(frame, now: now) }) {
                        case .written: written += 1
                        case .failed(let failures, let closing): refused(frame, recipient.takeUnretainedValue(), failures, closing)
                        case .enqueued, .notOpen: break
                        }
                    }
                }
            }
            // Counted here, once per event: two loops adding to the same counters for every frame
            // would pass its cache line back and forth. Queued frames are counted where they are written.
            if written > 0 {
                metrics.messagesSent.increment(by: Int64(written))
                metrics.bytesSent.increment(by: Int64(written * frame.bytes.readableBytes))
            }
        } else {
            var owed: [Connection.Perform] = []
            for delivery in deliveries {
                for connection in delivery.recipients {
                    if case .failed(let failures, let closing) = connection.enqueue(delivery.frame, now: now, owed: &owed) {
                        refused(delivery.frame, connection, failures, closing)
                    }
                }
            }
            for flush in owed { flush(.flush) }
        }
        for delivery in deliveries { delivery.done?.arrive() }
    }

    private func refused(_ frame: OutboundFrame, _ connection: Connection, _ failures: Int, _ closing: Bool) {
        ConnectionManager.recordSendFailure(frame, connection: connection, failures: failures, closing: closing, metrics: metrics)
    }
}

/// Runs its action when the last of `count` parties arrives, whichever thread that is on.
final class Countdown: Sendable {
    private let remaining: Atomic<Int>
    private let whenDone: @Sendable () -> Void

    init(_ count: Int, whenDone: @escaping @Sendable () -> Void) {
        self.remaining = Atomic(count)
        self.whenDone = whenDone
    }

    func arrive() {
        if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { whenDone() }
    }
}
