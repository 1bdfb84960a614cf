import Foundation
import GeneratedMessages

/// One recorded broadcast event: what a replay turns back into the same frame the live
/// recipients got (same type, data, correlation id and timestamp), at its offset.
package struct HistoryEntry: Sendable, Equatable {
    package var offset: Int
    package var event: BroadcastEvent
    /// The frame's `timestamp`: when the event was recorded.
    package var timestamp: String

    package init(offset: Int, event: BroadcastEvent, timestamp: String) {
        self.offset = offset
        self.event = event
        self.timestamp = timestamp
    }

    /// The stored form (Redis): the schema's broadcast envelope with the frame's timestamp beside it.
    package static func encode(_ event: BroadcastEvent, timestamp: String) throws -> String {
        let envelope = BroadcastEnvelope(
            subscription: event.subscription,
            type: event.type,
            data: event.data,
            correlationId: event.correlationId,
            additionalProperties: ["timestamp": .string(timestamp)]
        )
        return String(decoding: try JSONEncoder().encode(envelope), as: UTF8.self)
    }

    /// Reads a stored entry back; throws when it is not an envelope of a broadcastable event.
    package static func decode(offset: Int, stored: String) throws -> HistoryEntry {
        let envelope = try JSONDecoder().decode(BroadcastEnvelope.self, from: Data(stored.utf8))
        let event = try BroadcastEvent(
            type: envelope.type,
            subscription: envelope.subscription.rawValue,
            data: envelope.data,
            correlationId: envelope.correlationId
        )
        return HistoryEntry(
            offset: offset,
            event: event,
            timestamp: envelope.additionalProperties["timestamp"]?.stringValue ?? FrameEncoder.timestamp()
        )
    }
}
