import Foundation
import GeneratedMessages
package import NIOCore

/// The Redis channels the gateway listens to, and how a published payload
/// becomes a broadcast event. Pure: the listener decodes, this translates.
package enum RedisChannels {
    package static let systemEvents = "system_events"
    package static let agentEventsPattern = "agent_events:*"
    package static let projectIndexEvents = "project_index:websocket_events"
    package static let broadcast = "hiveops:ws:broadcast"

    package static let channels = [systemEvents, projectIndexEvents, broadcast]
    package static let patterns = [agentEventsPattern]

    package enum Translation: Equatable, Sendable {
        case deliver(BroadcastEvent)
        /// A project index event for subscribers none of whom is connected here: recorded in the
        /// history, not delivered here.
        case recordOnly(BroadcastEvent)
        case invalid(String)
    }

    /// Translates one published message.
    /// - Parameters:
    ///   - pattern: the pattern it matched, for pattern subscriptions.
    ///   - isConnected: whether a connection id is connected to this node (for `project_index` subscribers).
    package static func translate(
        channel: String,
        pattern: String?,
        payload: ByteBuffer,
        isConnected: (String) -> Bool
    ) -> Translation {
        if channel == broadcast, pattern == nil {
            // The schema's envelope, decoded as such: its shape is not restated here.
            let envelope: BroadcastEnvelope
            do {
                envelope = try JSONDecoder().decode(BroadcastEnvelope.self, from: Data(payload.readableBytesView))
            } catch {
                return .invalid(DecodingErrorDescription.describe(error, root: "envelope"))
            }
            do {
                return .deliver(
                    try BroadcastEvent(
                        type: envelope.type,
                        subscription: envelope.subscription.rawValue,
                        data: envelope.data,
                        correlationId: envelope.correlationId
                    )
                )
            } catch {
                return .invalid(error.description)
            }
        }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(payload.readableBytesView)) else {
            return .invalid("not JSON")
        }
        guard case .object(let object) = value else { return .invalid("not a JSON object") }
        let correlationId = object["correlation_id"]?.stringValue
        do {
            switch (channel, pattern) {
            case (systemEvents, nil):
                return .deliver(try BroadcastEvent(.systemEvent, data: object, correlationId: correlationId))
            case (_, agentEventsPattern?):
                return .deliver(try BroadcastEvent(.agentEvent, data: object, correlationId: correlationId))
            case (projectIndexEvents, nil):
                guard case .object(let event) = object["event"] else { return .invalid("no \"event\" object") }
                let subscribers = object["subscribers"]?.arrayValue?.compactMap(\.stringValue) ?? []
                let relayed = try BroadcastEvent(
                    .projectIndexEvent,
                    data: event,
                    correlationId: event["correlation_id"]?.stringValue ?? correlationId
                )
                return subscribers.isEmpty || subscribers.contains(where: isConnected) ? .deliver(relayed) : .recordOnly(relayed)
            default:
                return .invalid("unexpected channel")
            }
        } catch {
            return .invalid(error.description)
        }
    }

    /// The payload the gateway publishes on `hiveops:ws:broadcast` for a REST broadcast.
    package static func broadcastPayload(_ event: BroadcastEvent) throws -> String {
        let envelope = BroadcastEnvelope(subscription: event.subscription, type: event.type, data: event.data, correlationId: event.correlationId)
        return String(decoding: try JSONEncoder().encode(envelope), as: UTF8.self)
    }
}
