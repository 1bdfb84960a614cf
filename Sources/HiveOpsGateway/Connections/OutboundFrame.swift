package import GeneratedMessages
package import NIOCore
import NIOWebSocket
import Synchronization

/// One serialized frame on its way to its recipients. One object per broadcast, shared: every
/// recipient's queue holds a reference (one retain, eight bytes a slot), and its bytes and
/// WebSocket framing are encoded once here rather than once per recipient; so is its compressed
/// form, for the recipients that negotiated permessage-deflate.
package final class OutboundFrame: Sendable {
    /// The JSON text (a slice of `wire`).
    package let bytes: ByteBuffer
    /// The whole unmasked text frame as it goes on the wire: header, then the JSON.
    package let wire: ByteBuffer
    /// For logs and metrics: the frame's `type`, topic and correlation id.
    package let type: String
    package let subscription: String?
    package let correlationId: String
    /// A broadcast's topic and its place in the topic's history; nil for replies and notices, and
    /// for a broadcast that could not be recorded.
    package let stream: (topic: Subscription, position: StreamPosition)?
    /// The compressed frames made so far, one per deflate window (nearly always just 15 bits); the
    /// lock is held while one is made, so a second event loop waits for it instead of deflating again.
    private let deflated = Mutex<[(windowBits: Int, wire: ByteBuffer)]>([])

    package init(
        bytes: ByteBuffer,
        type: String,
        subscription: String? = nil,
        correlationId: String,
        stream: (topic: Subscription, position: StreamPosition)? = nil
    ) {
        var wire = ByteBuffer()
        wire.reserveCapacity(bytes.readableBytes + 10)
        Self.writeFrameHeader(firstByte: 0x81, payloadLength: bytes.readableBytes, to: &wire)
        let headerLength = wire.writerIndex
        wire.writeImmutableBuffer(bytes)
        self.wire = wire
        self.bytes = wire.getSlice(at: headerLength, length: bytes.readableBytes)!
        self.type = type
        self.subscription = subscription
        self.correlationId = correlationId
        self.stream = stream
    }

    /// The frame for a connection that negotiated `deflate`: compressed with its window, made once
    /// per window and shared; the plain frame when compression would not pay (below the threshold).
    package func wire(for deflate: PerMessageDeflate, compression: MessageCompression) -> ByteBuffer {
        deflated.withLock { made in
            if let found = made.first(where: { $0.windowBits == deflate.serverWindowBits }) { return found.wire }
            let wire = compression.deflatedFrame(bytes, opcode: .text, windowBits: deflate.serverWindowBits) ?? self.wire
            made.append((deflate.serverWindowBits, wire))
            return wire
        }
    }

    /// RFC 6455 §5.2, a final unmasked frame: server frames are never masked. `firstByte` holds FIN,
    /// RSV1 (set for a compressed message) and the opcode.
    static func writeFrameHeader(firstByte: UInt8, payloadLength: Int, to buffer: inout ByteBuffer) {
        buffer.writeInteger(firstByte)
        switch payloadLength {
        case ..<126:
            buffer.writeInteger(UInt8(payloadLength))
        case ...0xFFFF:
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(payloadLength))
        default:
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(payloadLength))
        }
    }
}
