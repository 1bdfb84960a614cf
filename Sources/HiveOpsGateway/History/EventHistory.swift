package import GeneratedMessages
import Prometheus

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
                outcomes[topic] = failed(topic, .unknownPosition, current: local.position(of: topic))
            case .notHeld where authority == nil:
                let current = local.position(of: topic)
                outcomes[topic] = failed(topic, current?.epoch == plan.epoch ? .historyExpired : .epochChanged, current: current)
            case .ahead, .notHeld:
                remote[topic] = offset
            }
        }
        if let authority, !remote.isEmpty {
            for (topic, answer) in await authority.recover(remote, epoch: plan.epoch) {
                switch answer {
                case .entries(let entries, let through):
                    let frames = entries.compactMap { router.replayFrame($0, epoch: through.epoch) }
                    outcomes[topic] =
                        frames.count == entries.count
                        ? recovered(frames, through: through) : failed(topic, .historyUnavailable, current: local.position(of: topic))
                case .failed(let reason, let current):
                    outcomes[topic] = failed(topic, reason, current: current ?? local.position(of: topic))
                }
            }
        }
        return outcomes
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

    private func failed(_ topic: Subscription, _ reason: RecoveryFailure, current: StreamPosition?) -> Outcome {
        metrics.recoveryFailures(reason).increment()
        return Outcome(
            replay: [],
            stream: TopicStream(epoch: current?.epoch, offset: current?.offset, recovered: false, reason: reason),
            covered: current
        )
    }
}
