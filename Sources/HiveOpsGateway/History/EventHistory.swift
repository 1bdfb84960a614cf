package import GeneratedMessages
import Prometheus
import Synchronization

/// Answers recovery requests: from this node's log when it holds every missed event (a single
/// node's log is the whole history), else from the shared history (``HistoryAuthority``, Redis).
package struct EventHistory: Sendable {
    /// One topic's answer, ready for the connection: the frames to replay and the stream entry
    /// its greeting or `subscription_updated` reports.
    package struct Outcome: Sendable {
        package var replay: [OutboundFrame]
        package var stream: TopicStream
        /// The position the replay (or, without one, the reported position) covers: live frames at
        /// or below it are not sent again.
        package var covered: StreamPosition?
    }

    package let router: EventRouter
    package let authority: (any HistoryAuthority)?
    let metrics: GatewayMetrics
    /// Reads of the shared history under way: recoveries of a topic at once share one.
    private let reads = RemoteReads()

    package init(router: EventRouter, authority: (any HistoryAuthority)?, metrics: GatewayMetrics) {
        self.router = router
        self.authority = authority
        self.metrics = metrics
    }

    package var local: LocalHistory { router.history }

    /// Where each of `topics` stands on this node: read after the connection registered.
    package func streams(of topics: Set<Subscription>) -> [Subscription: TopicStream] {
        var streams: [Subscription: TopicStream] = [:]
        for topic in topics {
            let position = local.position(of: topic)
            streams[topic] = TopicStream(epoch: position?.epoch, offset: position?.offset)
        }
        return streams
    }

    /// Recovers the plan's topics; the connection holds their live frames meanwhile.
    package func recover(_ plan: RecoveryPlan) async -> [Subscription: Outcome] {
        var outcomes: [Subscription: Outcome] = [:]
        var remote: [Subscription: Int] = [:]
        for (topic, offset) in plan.offsets {
            metrics.recoveryRequests.increment()
            switch local.replay(topic, after: offset, epoch: plan.epoch) {
            case .frames(let frames, let through):
                outcomes[topic] = recovered(frames, through: through)
            case .ahead where authority == nil:
                outcomes[topic] = failed(.unknownPosition, current: local.position(of: topic))
            case .notHeld where authority == nil:
                let current = local.position(of: topic)
                outcomes[topic] = failed(current?.epoch == plan.epoch ? .historyExpired : .epochChanged, current: current)
            case .ahead, .notHeld:
                remote[topic] = offset
            }
        }
        for (topic, offset) in remote {
            var answer = await read(topic, after: offset, epoch: plan.epoch, shared: true)
            // A joined read that ended before this offset (the client saw later events elsewhere) does not answer it.
            if case .frames(_, let through) = answer, through.offset < offset {
                answer = await read(topic, after: offset, epoch: plan.epoch, shared: false)
            }
            switch answer {
            case .frames(let frames, let through):
                outcomes[topic] = recovered(frames.filter { ($0.stream?.position.offset ?? 0) > offset }, through: through)
            case .failed(let reason, let current):
                outcomes[topic] = failed(reason, current: current ?? local.position(of: topic))
            }
        }
        return outcomes
    }

    /// Reads a topic's events after `offset` from the shared history, as frames: joining a read of the
    /// same topic under way from an offset at or before this one (its frames after `offset` are this
    /// answer), else starting one, whose frames this node then keeps (``LocalHistory/backfill``).
    private func read(_ topic: Subscription, after offset: Int, epoch: String, shared: Bool) async -> RemoteReads.Answer {
        guard let authority else { return .failed(.historyUnavailable, current: nil) }
        let router = self.router
        let reading: @Sendable () async -> RemoteReads.Answer = {
            switch await authority.recover([topic: offset], epoch: epoch)[topic] {
            case .entries(let entries, let through)?:
                let frames = entries.compactMap { router.replayFrame($0, epoch: through.epoch) }
                guard frames.count == entries.count else { return .failed(.historyUnavailable, current: nil) }
                router.history.backfill(topic, frames, through: through)
                return .frames(frames, through: through)
            case .failed(let reason, let current)?:
                return .failed(reason, current: current)
            case nil:
                return .failed(.historyUnavailable, current: nil)
            }
        }
        return shared ? await reads.read(topic, after: offset, epoch: epoch, reading: reading) : await reading()
    }

    /// Sets the history gauges: this node's log, and what Redis keeps when there is Redis.
    package func refreshGauges() async {
        metrics.history.set(local.usage())
        if let authority, let usage = await authority.usage() { metrics.redisHistory.set(usage) }
    }

    private func recovered(_ frames: [OutboundFrame], through: StreamPosition) -> Outcome {
        metrics.recoveries.increment()
        metrics.replayedEvents.increment(by: Int64(frames.count))
        return Outcome(
            replay: frames,
            stream: TopicStream(epoch: through.epoch, offset: through.offset, recovered: true, replayed: frames.count),
            covered: through
        )
    }

    private func failed(_ reason: RecoveryFailure, current: StreamPosition?) -> Outcome {
        metrics.recoveryFailures(reason).increment()
        return Outcome(
            replay: [],
            stream: TopicStream(epoch: current?.epoch, offset: current?.offset, recovered: false, reason: reason),
            covered: current
        )
    }
}

/// The reads of the shared history under way, one per topic and epoch: a recovery from an offset at
/// or after a read's joins it instead of asking Redis again (a thousand clients that come back at
/// once after a node restarted make one read, and one set of frames).
final class RemoteReads: Sendable {
    enum Answer: Sendable {
        case frames([OutboundFrame], through: StreamPosition)
        case failed(RecoveryFailure, current: StreamPosition?)
    }

    private struct Key: Hashable {
        var topic: Subscription
        var epoch: String
    }

    private let underway = Mutex<[Key: (after: Int, task: Task<Answer, Never>)]>([:])

    func read(_ topic: Subscription, after offset: Int, epoch: String, reading: @escaping @Sendable () async -> Answer) async -> Answer {
        let key = Key(topic: topic, epoch: epoch)
        let (task, started) = underway.withLock { underway -> (Task<Answer, Never>, Bool) in
            if let read = underway[key], read.after <= offset { return (read.task, false) }
            let task = Task { await reading() }
            underway[key] = (offset, task)
            return (task, true)
        }
        let answer = await task.value
        if started { underway.withLock { if $0[key]?.task == task { $0[key] = nil } } }
        return answer
    }
}
