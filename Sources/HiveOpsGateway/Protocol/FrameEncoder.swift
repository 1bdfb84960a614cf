package import Foundation
package import GeneratedMessages
package import NIOCore
import NIOFoundationCompat

/// Serializes generated server messages into frame bytes, and makes the
/// `timestamp` and `correlation_id` values every server frame carries.
package struct FrameEncoder: Sendable {
    private let encoder = JSONEncoder()
    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    package init() {}

    /// ISO-8601 UTC with milliseconds and `Z`, e.g. `2026-11-27T05:48:56.584Z`.
    package static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(timestampStyle)
    }

    /// A new lowercase UUIDv4, as HiveOps writes them; formatted by hand, which is several times
    /// faster than `UUID().uuidString.lowercased()` on this per-frame path.
    package static func newCorrelationId() -> String {
        var generator = SystemRandomNumberGenerator()
        var high = generator.next() as UInt64
        var low = generator.next() as UInt64
        high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000  // version 4
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // variant 10
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            func put(_ value: UInt64, nibbles: Int) {
                for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
                    buffer[index] = digits[Int((value >> UInt64(shift)) & 0xF)]
                    index += 1
                }
            }
            func dash() {
                buffer[index] = UInt8(ascii: "-")
                index += 1
            }
            put(high >> 32, nibbles: 8)
            dash()
            put((high >> 16) & 0xFFFF, nibbles: 4)
            dash()
            put(high & 0xFFFF, nibbles: 4)
            dash()
            put(low >> 48, nibbles: 4)
            dash()
            put(low & 0xFFFF_FFFF_FFFF, nibbles: 12)
            return index
        }
    }

    package func encode(_ message: ServerMessage) throws -> ByteBuffer {
        try encoder.encodeAsByteBuffer(message, allocator: ByteBufferAllocator())
    }

    /// The frame for a reply to the client, echoing its correlation id when it sent one.
    /// - Parameter streams: where each topic stands, for a `subscription_updated`.
    package func frame(for reply: InboundProcessor.Reply, correlationId: String?, streams: TopicStreams? = nil) throws -> OutboundFrame {
        let id = correlationId ?? Self.newCorrelationId()
        let timestamp = Self.timestamp()
        let message: ServerMessage =
            switch reply {
            case .pong:
                .pong(Pong(correlationId: id, timestamp: timestamp))
            case .error(let text, let code, let retryAfter):
                .error(ErrorMessage(message: text, code: code, retryAfterMs: retryAfter, correlationId: id, timestamp: timestamp))
            case .subscriptionUpdated(let subscriptions):
                .subscriptionUpdated(SubscriptionUpdated(subscriptions: subscriptions, streams: streams, correlationId: id, timestamp: timestamp))
            case .dataError(let dataType, let error):
                .dataError(DataError(dataType: dataType, error: error, correlationId: id, timestamp: timestamp))
            }
        return try frame(for: message)
    }

    /// A broadcast's frame, at its place in the topic's history when it has one: one serialization
    /// for every recipient, and the same frame again for every replay of it on this node.
    package func broadcastFrame(_ event: BroadcastEvent, correlationId: String, timestamp: String, position: StreamPosition?) throws -> OutboundFrame
    {
        let message = event.message(correlationId: correlationId, timestamp: timestamp, position: position)
        return OutboundFrame(
            bytes: try encode(message),
            type: message.type,
            subscription: event.subscription.rawValue,
            correlationId: correlationId,
            stream: position.map { (event.subscription, $0) }
        )
    }

    /// The frame for any server message, carrying the metadata logs need.
    package func frame(for message: ServerMessage, subscription: String? = nil) throws -> OutboundFrame {
        OutboundFrame(
            bytes: try encode(message),
            type: message.type,
            subscription: subscription,
            correlationId: message.correlationId ?? ""
        )
    }
}
