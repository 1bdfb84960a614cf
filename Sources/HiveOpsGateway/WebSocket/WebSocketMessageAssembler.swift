package import NIOCore
package import NIOWebSocket

/// RFC 6455 §5 and §7 for the frames one client sends: collates fragments into messages and says
/// what each frame asks of the server. A plain state machine with no I/O; the connection's channel
/// handler performs its actions. Frame length limits and fragmented control frames are already
/// refused by NIO's frame decoder in front of it.
package struct WebSocketMessageAssembler {
    package enum Action: Equatable {
        /// A whole text message (valid UTF-8) or binary message.
        case text(ByteBuffer)
        case binary(ByteBuffer)
        /// Answer with a pong carrying the same data.
        case ping(ByteBuffer)
        case pong
        /// The peer closed: answer with a close frame of this code, then close the socket.
        case peerClosed(answer: WebSocketErrorCode)
        /// A protocol violation: close with this code (1002, 1007, 1009).
        case fail(WebSocketErrorCode)
        /// A fragment was kept; nothing to do yet.
        case none
    }

    /// The largest message, all fragments together.
    package let maxMessageBytes: Int
    private var fragments: (opcode: WebSocketOpcode, data: ByteBuffer)?

    package init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    package mutating func receive(_ frame: WebSocketFrame) -> Action {
        // §5.1: a client masks every frame; §5.2: no extension is negotiated, so no reserved bit is set.
        guard frame.maskKey != nil, frame.reservedBits.isEmpty else { return .fail(.protocolError) }
        switch frame.opcode {
        case .text, .binary:
            guard fragments == nil else { return .fail(.protocolError) }
            guard frame.length <= maxMessageBytes else { return .fail(.messageTooLarge) }
            if frame.fin { return complete(frame.opcode, frame.unmaskedData) }
            fragments = (frame.opcode, frame.unmaskedData)
            return .none
        case .continuation:
            guard case (let opcode, var data)? = fragments else { return .fail(.protocolError) }
            guard data.readableBytes + frame.length <= maxMessageBytes else { return .fail(.messageTooLarge) }
            fragments = nil
            var next = frame.unmaskedData
            data.writeBuffer(&next)
            if frame.fin { return complete(opcode, data) }
            fragments = (opcode, data)
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

    private func complete(_ opcode: WebSocketOpcode, _ data: ByteBuffer) -> Action {
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
