import GeneratedMessages
package import Logging

/// Turns a broadcast event into one serialized frame and fans it out to the
/// local subscribers, remembering the last data of each update type.
package struct EventRouter: Sendable {
    let manager: ConnectionManager
    let lastKnown: LastKnownData
    let encoder: FrameEncoder
    let logger: Logger

    package init(manager: ConnectionManager, lastKnown: LastKnownData, logger: Logger) {
        self.manager = manager
        self.lastKnown = lastKnown
        self.encoder = FrameEncoder()
        self.logger = logger
    }

    /// Delivers to this node's subscribers; returns how many took the frame.
    /// - Parameters:
    ///   - arrivedAt: when the event reached this node (its bytes read from Redis, or the request
    ///     that carried it): the fan-out metrics measure from there.
    ///   - dequeuedAt: when the code that decoded it took it up.
    @discardableResult
    package func deliver(_ event: BroadcastEvent, arrivedAt: ContinuousClock.Instant? = nil, dequeuedAt: ContinuousClock.Instant? = nil) -> Int {
        let routingStarted = ContinuousClock.now
        let timing = ConnectionManager.BroadcastTiming(
            arrivedAt: arrivedAt ?? routingStarted,
            dequeuedAt: dequeuedAt ?? arrivedAt ?? routingStarted,
            routingStartedAt: routingStarted
        )
        if event.isUpdate { lastKnown.record(type: event.type, topic: event.subscription, data: event.data) }
        // One id and one serialization for the whole broadcast: every recipient gets the same bytes.
        let correlationId = event.correlationId ?? FrameEncoder.newCorrelationId()
        let message = event.message(correlationId: correlationId, timestamp: FrameEncoder.timestamp())
        do {
            let frame = try encoder.frame(for: message, subscription: event.subscription.rawValue)
            return manager.broadcast(frame, to: event.subscription, timing: timing)
        } catch {
            logger.error(
                "Cannot serialize broadcast",
                metadata: ["type": "\(event.type)", "correlation_id": "\(correlationId)", "error": "\(error)"]
            )
            return 0
        }
    }
}
