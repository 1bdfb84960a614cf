import GeneratedMessages
import HiveOpsGateway
import NIOCore

extension OutboundFrame {
    /// A frame of `size` bytes (`{}` when nil) for the queue and connection tests.
    static func testing(
        _ type: String = "pong",
        size: Int? = nil,
        correlationId: String = "x",
        subscription: String? = nil
    ) -> OutboundFrame {
        let bytes = size.map { ByteBuffer(repeating: UInt8(ascii: "x"), count: $0) } ?? ByteBuffer(string: "{}")
        return OutboundFrame(bytes: bytes, type: type, subscription: subscription, correlationId: correlationId)
    }

    /// A broadcast frame of `topic` at `offset` of `epoch`, its correlation id naming both.
    static func event(_ topic: Subscription, _ offset: Int, epoch: String = "e1") -> OutboundFrame {
        OutboundFrame(
            bytes: ByteBuffer(string: #"{"offset":\#(offset)}"#),
            type: "agent_update",
            subscription: topic.rawValue,
            correlationId: "\(topic.rawValue)-\(offset)",
            stream: (topic, StreamPosition(epoch: epoch, offset: offset))
        )
    }
}
