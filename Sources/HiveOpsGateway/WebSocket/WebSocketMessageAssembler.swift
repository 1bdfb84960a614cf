package import NIOCore
package import NIOWebSocket

/// RFC 6455 §5 and §7 for the frames one client sends: collates fragments into messages and says
/// what each frame asks of the server; with permessage-deflate (RFC 7692 §6), a message whose first
/// frame has RSV1 set is inflated once whole. A plain state machine with no I/O; the connection's
/// channel handler performs its actions. Frame length limits and fragmented control frames are
/// already refused by NIO's frame decoder in front of it.
package struct WebSocketMessageAssembler {
    /// What a permessage-deflate connection inflates with, and how far.
    package struct Inflation {
        package var compression: MessageCompression
        /// A message that inflates past this closes the connection (1009): the work to inflate it
        /// is bounded by it.
        package var maxInflatedBytes: Int

        package init(compression: MessageCompression, maxInflatedBytes: Int) {
            self.compression = compression
            self.maxInflatedBytes = maxInflatedBytes
        }
    }

    package enum Action: Equatable {
        /// A whole text message (valid UTF-8) or binary message.
        case text(ByteBuffer)
        case binary(ByteBuffer)
        /// Answer with a pong carrying the same data.
        case ping(ByteBuffer)
        case pong
        /// The peer closed: answer with a close frame of this code, then close the socket.
        case peerClosed(answer: WebSocketErrorCode)
        /// A protocol violation: close with this code (1002, 1007, 1009; 1011 when zlib fails us).
        case fail(WebSocketErrorCode)
        /// A fragment was kept; nothing to do yet.
        case none
    }

    /// The largest message as it arrives (compressed, when it is), all fragments together.
    package let maxMessageBytes: Int
    /// nil: no extension was negotiated, so no reserved bit may be set.
    package let inflation: Inflation?
    private var fragments: (opcode: WebSocketOpcode, data: ByteBuffer, compressed: Bool)?

    package init(maxMessageBytes: Int, inflation: Inflation? = nil) {
        self.maxMessageBytes = maxMessageBytes
        self.inflation = inflation
    }

    package mutating func receive(_ frame: WebSocketFrame) -> Action {
        // §5.1: a client masks every frame. §5.2: a reserved bit only as an extension defines it:
        // RSV1 on the first frame of a data message, with permessage-deflate (RFC 7692 §6).
        guard frame.maskKey != nil, frame.rsv2 == false, frame.rsv3 == false else { return .fail(.protocolError) }
        if frame.rsv1, inflation == nil || !(frame.opcode == .text || frame.opcode == .binary) { return .fail(.protocolError) }
        switch frame.opcode {
        case .text, .binary:
            guard fragments == nil else { return .fail(.protocolError) }
            guard frame.length <= maxMessageBytes else { return .fail(.messageTooLarge) }
            if frame.fin { return complete(frame.opcode, frame.unmaskedData, compressed: frame.rsv1) }
            fragments = (frame.opcode, frame.unmaskedData, frame.rsv1)
            return .none
        case .continuation:
            guard case (let opcode, var data, let compressed)? = fragments else { return .fail(.protocolError) }
            guard data.readableBytes + frame.length <= maxMessageBytes else { return .fail(.messageTooLarge) }
            fragments = nil
            var next = frame.unmaskedData
            data.writeBuffer(&next)
            if frame.fin { return complete(opcode, data, compressed: compressed) }
            fragments = (opcode, data, compressed)
            return .none
        case .ping:
            return .ping(frame.unmaskedData)
        case .pong:
            return .pong
        case .connectionClose:
            return .peerClosed(answer: Self.answer(toClose: frame.unmaskedData))
        default:
            return .fail(.protocolError)
        }
    }

    private func complete(_ opcode: WebSocketOpcode, _ data: ByteBuffer, compressed: Bool) -> Action {
        var data = data
        if compressed, let inflation {
            switch inflation.compression.inflate(data, maxBytes: inflation.maxInflatedBytes) {
            case .inflated(let inflated): data = inflated
            case .tooLarge: return .fail(.messageTooLarge)
            case .corrupt: return .fail(.dataInconsistentWithMessage)
            case .unavailable: return .fail(.unexpectedServerError)
            }
        }
        guard opcode == .text else { return .binary(data) }
        return Self.isValidUTF8(data) ? .text(data) : .fail(.dataInconsistentWithMessage)
    }

    /// §7.4: an empty close or a valid code is answered with 1000; a one-byte body, a code that
    /// may not be sent (1004-1006, 1012-2999, 5000 and up) with 1002; a reason that is not UTF-8
    /// with 1007.
    static func answer(toClose body: ByteBuffer) -> WebSocketErrorCode {
        var body = body
        guard body.readableBytes > 0 else { return .normalClosure }
        guard let code = body.readInteger(as: UInt16.self) else { return .protocolError }
        switch code {
        case 1000...1003, 1007...1011, 3000...4999: break
        default: return .protocolError
        }
        return isValidUTF8(body) ? .normalClosure : .dataInconsistentWithMessage
    }

    static func isValidUTF8(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { bytes in
            String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) != nil
        }
    }
}
