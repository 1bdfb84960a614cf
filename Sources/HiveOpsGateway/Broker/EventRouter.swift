import GeneratedMessages
package import Logging

/// Turns a broadcast event into one serialized frame at its place in the topic's history and
/// fans it out to the local subscribers, keeping the frame in this node's log (for replays) and
/// remembering the last data of each update type.
package struct EventRouter: Sendable {
    /// Who gives an event its offset.
    package enum Numbering: Sendable {
        /// A single node numbers its own events, in an epoch of its own (one per process).
        case local(epoch: String)
        /// Redis numbers them (``RedisHistoryStore``); the listener hands each event its position.
        case redis
    }

    let manager: ConnectionManager
    let lastKnown: LastKnownData
    package let history: LocalHistory
    package let numbering: Numbering
    let encoder: FrameEncoder
    let logger: Logger

    package init(
        manager: ConnectionManager,
        lastKnown: LastKnownData,
        history: LocalHistory = LocalHistory(settings: HistorySettings()),
        numbering: Numbering = .local(epoch: FrameEncoder.newCorrelationId()),
        logger: Logger
    ) {
        self.manager = manager
        self.lastKnown = lastKnown
        self.history = history
        self.numbering = numbering
        self.encoder = FrameEncoder()
        self.logger = logger
        // A single node's history begins with it: every topic stands at 0 of its epoch.
        if case .local(let epoch) = numbering {
            for topic in Subscription.allCases { history.advance(topic, to: StreamPosition(epoch: epoch, offset: 0)) }
        }
    }

    /// Delivers to this node's subscribers; returns how many took the frame.
    /// - Parameters:
    ///   - recorded: where Redis recorded the event; nil numbers it here (a single node), or, with
    ///     Redis numbering, delivers it without a position (it could not be recorded).
    ///   - arrivedAt: when the event reached this node (its bytes read from Redis, or the request
    ///     that carried it): the fan-out metrics measure from there.
    ///   - dequeuedAt: when the code that decoded it took it up.
    @discardableResult
    package func deliver(
        _ event: BroadcastEvent,
        recorded: StreamPosition? = nil,
        arrivedAt: ContinuousClock.Instant? = nil,
        dequeuedAt: ContinuousClock.Instant? = nil
    ) -> Int {
        let routingStarted = ContinuousClock.now
        let timing = ConnectionManager.BroadcastTiming(
            arrivedAt: arrivedAt ?? routingStarted,
            dequeuedAt: dequeuedAt ?? arrivedAt ?? routingStarted,
            routingStartedAt: routingStarted
        )
        // One id, one time and one serialization for the whole broadcast: every recipient, and every
        // replay on this node, gets the same bytes.
        let correlationId = event.correlationId ?? FrameEncoder.newCorrelationId()
        let timestamp = FrameEncoder.timestamp()
        let pick: (TopicLog) -> StreamPosition
        switch (recorded, numbering) {
        case (let recorded?, _):
            pick = { _ in recorded }
        case (nil, .local(let epoch)):
            pick = { $0.next(epoch: epoch) }
        case (nil, .redis):
            // Not recorded (Redis away): delivered without a position, and kept nowhere.
            let frame = self.frame(event, correlationId: correlationId, timestamp: timestamp, position: nil)
            return frame.map { send($0, of: event, timing: timing) } ?? 0
        }
        let delivered = history.append(to: event.subscription, position: pick) { position in
            guard let frame = self.frame(event, correlationId: correlationId, timestamp: timestamp, position: position) else { return (nil, 0) }
            return (frame, send(frame, of: event, timing: timing))
        }
        return delivered ?? 0
    }

    /// An event recorded at `position` that this node does not deliver: its topic's position moves on.
    package func pass(_ event: BroadcastEvent, recorded position: StreamPosition) {
        history.advance(event.subscription, to: position)
    }

    /// The frame of a recorded event read back from Redis: the same bytes its live recipients got,
    /// but for the timestamp of the node that recorded it.
    package func replayFrame(_ entry: HistoryEntry, epoch: String) -> OutboundFrame? {
        frame(
            entry.event,
            correlationId: entry.event.correlationId ?? FrameEncoder.newCorrelationId(),
            timestamp: entry.timestamp,
            position: StreamPosition(epoch: epoch, offset: entry.offset)
        )
    }

    private func send(_ frame: OutboundFrame, of event: BroadcastEvent, timing: ConnectionManager.BroadcastTiming) -> Int {
        if event.isUpdate { lastKnown.record(type: event.type, topic: event.subscription, data: event.data) }
        return manager.broadcast(frame, to: event.subscription, timing: timing)
    }

    private func frame(_ event: BroadcastEvent, correlationId: String, timestamp: String, position: StreamPosition?) -> OutboundFrame? {
        do {
            return try encoder.broadcastFrame(event, correlationId: correlationId, timestamp: timestamp, position: position)
        } catch {
            logger.error(
                "Cannot serialize broadcast",
                metadata: ["type": "\(event.type)", "correlation_id": "\(correlationId)", "error": "\(error)"]
            )
            return nil
        }
    }
}
