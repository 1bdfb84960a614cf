package import GeneratedMessages
import Synchronization

/// This node's log of every topic (``TopicLog``), each behind its own lock. A topic's lock is
/// held from the moment its event gets its position until its frame is in every recipient's
/// queue: so frames reach each connection in offset order, and a connection that reads a
/// topic's position after registering gets every event after it.
package final class LocalHistory: Sendable {
    /// One topic's log and its lock: `Mutex` cannot live in a dictionary's values itself.
    private final class Guarded: Sendable {
        let log = Mutex(TopicLog())
    }

    package let settings: HistorySettings
    private let logs: [Subscription: Guarded]
    private let clock: @Sendable () -> ContinuousClock.Instant

    package init(settings: HistorySettings, clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.settings = settings
        self.clock = clock
        var logs: [Subscription: Guarded] = [:]
        for topic in Subscription.allCases { logs[topic] = Guarded() }
        self.logs = logs
    }

    /// Runs `deliver` under `topic`'s lock with the position `position` picks from the log, and
    /// keeps the frame it returns at that position.
    package func append<Result>(
        to topic: Subscription,
        position: (TopicLog) -> StreamPosition,
        deliver: (StreamPosition) -> (frame: OutboundFrame?, result: Result)
    ) -> Result? {
        guard let guarded = logs[topic] else { return nil }
        return guarded.log.withLock { log -> Result? in
            let next = position(log)
            let (frame, result) = deliver(next)
            if let frame {
                log.append(frame, at: next, now: clock(), settings: settings)
            } else {
                log.advance(to: next)
            }
            return result
        }
    }

    /// Where `topic` stands here: every later event this node delivers reaches a connection that
    /// registered before asking. Nil before the node knows (no event yet, Redis not yet read).
    package func position(of topic: Subscription) -> StreamPosition? {
        logs[topic]?.log.withLock { $0.position }
    }

    /// Moves a topic's position forward without an event (what Redis says at start).
    package func advance(_ topic: Subscription, to position: StreamPosition) {
        logs[topic]?.log.withLock { $0.advance(to: position) }
    }

    /// Keeps frames read back from Redis where they join this node's log (``TopicLog/backfill``).
    package func backfill(_ topic: Subscription, _ frames: [OutboundFrame], through: StreamPosition) {
        let now = clock()
        logs[topic]?.log.withLock { $0.backfill(frames, through: through, now: now, settings: settings) }
    }

    /// The frames after `offset`, when this node holds all of them.
    package func replay(_ topic: Subscription, after offset: Int, epoch: String) -> TopicLog.Replay {
        guard let guarded = logs[topic] else { return .notHeld }
        let now = clock()
        return guarded.log.withLock { $0.replay(after: offset, epoch: epoch, now: now, settings: settings) }
    }

    /// Events and bytes kept per topic, after dropping what aged out.
    package func usage() -> [Subscription: (events: Int, bytes: Int)] {
        let now = clock()
        var usage: [Subscription: (events: Int, bytes: Int)] = [:]
        for (topic, guarded) in logs {
            usage[topic] = guarded.log.withLock { log in
                log.trim(now: now, settings: settings)
                return (log.kept.count, log.bytes)
            }
        }
        return usage
    }
}
