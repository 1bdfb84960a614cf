import Foundation
import GatewayClient

/// One malformed message on an open connection and the replies it may get: each reply a sequence
/// of frames, each frame named `type` or `error:code`, all of one length.
package struct MessageInput {
    package enum Payload {
        case text(String)
        case binary([UInt8])
    }

    package var kind: String
    package var payload: Payload
    package var accepted: Set<[String]>

    package init(kind: String, payload: Payload, accepted: Set<[String]>) {
        precondition(Set(accepted.map(\.count)).count == 1, "every accepted reply of \(kind) has one length")
        self.kind = kind
        self.payload = payload
        self.accepted = accepted
    }

    /// One frame, any of `frames`.
    package init(kind: String, payload: Payload, oneOf frames: Set<String>) {
        self.init(kind: kind, payload: payload, accepted: Set(frames.map { [$0] }))
    }

    /// How many frames the reply has.
    package var replyFrames: Int { accepted.first!.count }
}

/// Generators of malformed input, one family per kind, each with its documented reaction.
package enum FuzzInputs {
    package static let knownTypes = ["ping", "subscribe", "unsubscribe", "request_data"]
    /// Every field of every client message, with a well-typed value.
    package static let fields: [String: [String: String]] = [
        "ping": ["timestamp": #""2026-11-27T10:00:00Z""#, "client_time": #""10:00""#, "correlation_id": #""c-1""#],
        // Topics the fuzzed connections already have: a subscribe that decodes changes nothing.
        "subscribe": ["subscriptions": #"["coordination"]"#, "correlation_id": #""c-1""#],
        "unsubscribe": ["subscriptions": #"["tasks"]"#, "correlation_id": #""c-1""#],
        "request_data": ["data_type": #""agent_status""#, "params": "{}", "correlation_id": #""c-1""#],
    ]
    /// Values of another JSON type than the field's (null where the field acts on it).
    package static func wrongValues(for field: String) -> [String] {
        let common = ["0", "-1.5e300", "true", "123456789012345678901234567890"]
        switch field {
        // A lone string is a list of one: a topic the fuzzed connections have, so that nothing changes.
        case "subscriptions": return common + [#""coordination""#, "{}", "null", "[1,2]", "[null]", #"[{"a":1}]"#]
        case "params": return common + [#""x""#, "[]", "[1,2]"]
        case "data_type": return common + ["null", "[]", "{}", #"["agent_status"]"#]
        default: return common + ["[]", "{}", "[1,2]", #"{"a":1}"#]
        }
    }

    /// Valid JSON for a known message type, with every field well typed.
    package static func valid(_ type: String) -> String {
        let body = fields[type, default: [:]].sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }
        return "{" + (["\"type\":\"\(type)\""] + body).joined(separator: ",") + "}"
    }

    package static func message(maxMessageBytes: Int, using random: inout SeededRandom) -> MessageInput {
        switch Int.random(in: 0..<12, using: &random) {
        case 0:
            // Not JSON: a character no JSON text starts with, then noise (NUL included).
            let noise = (0..<Int.random(in: 0..<64, using: &random)).map { _ in Character(randomScalar(using: &random)) }
            return MessageInput(kind: "not JSON", payload: .text("@" + String(noise)), oneOf: ["error:invalid_json"])
        case 1:
            let full = valid(knownTypes.randomElement(using: &random)!)
            let cut = Int.random(in: 1..<full.count, using: &random)
            return MessageInput(kind: "truncated JSON", payload: .text(String(full.prefix(cut))), oneOf: ["error:invalid_json"])
        case 2:
            let value = ["[]", "[1,2,3]", "42", "-0.5", #""ping""#, "true", "null", #"[{"type":"ping"}]"#].randomElement(using: &random)!
            return MessageInput(kind: "not an object", payload: .text(value), oneOf: ["error:invalid_message"])
        case 3:
            let value = (["{}", #"{"type":null}"#] + wrongValues(for: "type").map { #"{"type":\#($0)}"# }).randomElement(using: &random)!
            return MessageInput(kind: "type not a string", payload: .text(value), oneOf: ["error:invalid_message", "error:invalid_json"])
        case 4:
            let name =
                "x"
                + (0..<Int.random(in: 0..<12, using: &random)).map { _ in ["a", "_", "\\u0000", "é", "\\n", "1"].randomElement(using: &random)! }
                .joined()
            return MessageInput(
                kind: "unknown type",
                payload: .text(#"{"type":"\#(name)","correlation_id":"u"}"#),
                oneOf: ["error:unknown_message_type"]
            )
        case 5:
            // Every message type with one field of the wrong JSON type.
            let type = knownTypes.randomElement(using: &random)!
            let field = fields[type]!.keys.sorted().randomElement(using: &random)!
            var body = fields[type]!
            body[field] = wrongValues(for: field).randomElement(using: &random)!
            let json =
                "{" + (["\"type\":\"\(type)\""] + body.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }).joined(separator: ",") + "}"
            let reply = replyToMistyped(type, field: field, value: body[field]!)
            return MessageInput(kind: "field of the wrong type", payload: .text(json), accepted: [reply])
        case 6:
            // 600 to 2,700 levels, under the 16 KiB message limit: Foundation's decoder refuses nesting past 512.
            let depth = Int.random(in: 600...2_700, using: &random)
            let nested =
                Bool.random(using: &random)
                ? String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
                : #"{"type":"ping","params":"# + String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth) + "}"
            return MessageInput(kind: "deep nesting", payload: .text(nested), oneOf: ["error:invalid_json"])
        case 7:
            let number = [
                "1e400", "-1e400", "1" + String(repeating: "0", count: 400), "123456789012345678901234567890.5e-99999",
                "0." + String(repeating: "9", count: 500),
            ]
            .randomElement(using: &random)!
            let json = Bool.random(using: &random) ? #"{"type":"ping","timestamp":\#(number)}"# : #"{"type":\#(number)}"#
            // A decoder that takes the number reads a mistyped `timestamp`: the ping is still answered.
            return MessageInput(kind: "huge number", payload: .text(json), oneOf: ["error:invalid_json", "error:invalid_message", "pong"])
        case 8:
            let text = [#"\ud800"#, #"\udfff"#, #"a\u0000b"#, #"\ud83d"#, #"\u0000"#, #"\uDBFF\u0041"#].randomElement(using: &random)!
            let json = #"{"type":"ping","correlation_id":"\#(text)","client_time":"\#(text)"}"#
            // A lone surrogate is refused by the JSON decoder or kept as U+FFFD; NUL is a valid character.
            return MessageInput(kind: "NUL and lone surrogates", payload: .text(json), oneOf: ["error:invalid_json", "pong"])
        case 9:
            let size = Int.random(in: (maxMessageBytes + 1)...(maxMessageBytes + 4_096), using: &random)
            let json = #"{"type":"ping","client_time":""# + String(repeating: "z", count: size) + #""}"#
            return MessageInput(kind: "too large", payload: .text(json), oneOf: ["error:message_too_large"])
        case 10:
            let bytes = (0..<Int.random(in: 0..<256, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            return MessageInput(kind: "binary", payload: .binary(bytes), oneOf: ["error:binary_not_supported"])
        default:
            return MessageInput(kind: "valid ping", payload: .text(#"{"type":"ping","correlation_id":"p"}"#), oneOf: ["pong"])
        }
    }

    /// The reply to a known message with one member of the wrong JSON type: liberal decoding reads
    /// the member as absent, so the message is answered as if it were; a value in place of
    /// `subscriptions` is named in `Invalid subscription(s): ...` unless it is null or a known topic.
    package static func replyToMistyped(_ type: String, field: String, value: String) -> [String] {
        switch (type, field) {
        case ("ping", _): ["pong"]
        case ("subscribe", "subscriptions"):
            value == "null" || value == #""coordination""# ? ["subscription_updated"] : ["error:invalid_subscription", "subscription_updated"]
        case ("subscribe", _), ("unsubscribe", _): ["subscription_updated"]
        case ("request_data", "data_type"): ["data_error"]
        default: ["data_response"]
        }
    }

    /// Any Unicode scalar, NUL and controls included (never a surrogate: Swift strings cannot hold one).
    package static func randomScalar(using random: inout SeededRandom) -> Unicode.Scalar {
        while true {
            let value = Bool.random(using: &random) ? UInt32.random(in: 0..<0x80, using: &random) : UInt32.random(in: 0..<0x11_0000, using: &random)
            if let scalar = Unicode.Scalar(value) { return scalar }
        }
    }

    /// A bad frame on a fresh connection and the close codes it may get.
    package struct FrameInput {
        package var kind: String
        package var bytes: [UInt8]
        package var accepted: Set<UInt16>
    }

    package static func frame(maxFrameBytes: Int, using random: inout SeededRandom) -> FrameInput {
        let text: UInt8 = 0x1
        switch Int.random(in: 0..<10, using: &random) {
        case 0:
            let invalid: [[UInt8]] = [[0xC3, 0x28], [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]]
            let payload = Array("ok".utf8) + invalid.randomElement(using: &random)!
            return FrameInput(kind: "invalid UTF-8", bytes: RawConnection.clientFrame(opcode: text, payload: payload), accepted: [1007])
        case 1:
            let opcode = ([3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] as [UInt8]).randomElement(using: &random)!
            return FrameInput(kind: "reserved opcode", bytes: RawConnection.clientFrame(opcode: opcode, payload: Array("x".utf8)), accepted: [1002])
        case 2:
            let rsv = UInt8.random(in: 1...7, using: &random)
            return FrameInput(kind: "RSV bits", bytes: RawConnection.clientFrame(opcode: text, payload: Array("{}".utf8), rsv: rsv), accepted: [1002])
        case 3:
            return FrameInput(kind: "orphan continuation", bytes: RawConnection.clientFrame(opcode: 0x0, payload: Array("x".utf8)), accepted: [1002])
        case 4:
            return FrameInput(
                kind: "control frame over 125 bytes",
                bytes: RawConnection.clientFrame(opcode: 0x9, payload: Array(repeating: 1, count: 126)),
                accepted: [1002]
            )
        case 5:
            return FrameInput(
                kind: "fragmented control frame",
                bytes: RawConnection.clientFrame(opcode: 0x9, payload: [1], fin: false),
                accepted: [1002]
            )
        case 6:
            let length = Int.random(in: (maxFrameBytes + 1)...(1 << 40), using: &random)
            return FrameInput(
                kind: "oversized frame",
                bytes: RawConnection.clientFrame(opcode: text, payload: [], declaredLength: length),
                accepted: [1009]
            )
        case 7:
            let code = ([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] as [UInt16]).randomElement(using: &random)!
            let payload = [UInt8(code >> 8), UInt8(code & 0xFF)]
            return FrameInput(kind: "invalid close code", bytes: RawConnection.clientFrame(opcode: 0x8, payload: payload), accepted: [1002])
        case 8:
            return FrameInput(kind: "one-byte close payload", bytes: RawConnection.clientFrame(opcode: 0x8, payload: [0x03]), accepted: [1002])
        default:
            let first = RawConnection.clientFrame(opcode: text, payload: Array("ab".utf8) + [0xE2], fin: false)
            let second = RawConnection.clientFrame(opcode: 0x0, payload: [0x28, 0x41], fin: true)
            return FrameInput(kind: "invalid UTF-8 across fragments", bytes: first + second, accepted: [1007])
        }
    }

    /// Bytes sent instead of a proper handshake, and the HTTP statuses they may get (0: closed without an answer).
    package struct HandshakeInput {
        package var kind: String
        package var bytes: [UInt8]
        package var accepted: Set<Int>
        /// Sent as is and left open: the server must close it by itself.
        package var halfOpen = false
    }

    package static func handshake(using random: inout SeededRandom) -> HandshakeInput {
        let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        switch Int.random(in: 0..<7, using: &random) {
        case 0:
            let bytes = (0..<Int.random(in: 1..<512, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) } + Array("\r\n\r\n".utf8)
            return HandshakeInput(kind: "random bytes", bytes: bytes, accepted: [400, 0])
        case 1:
            let request = "GET /api/dashboard/ws/agents HTTP/1.1\r\nHost: x\r\n" + upgrade + "Sec-WebSocket-Version: 13\r\n"
            let cut = Int.random(in: 1..<request.utf8.count, using: &random)
            return HandshakeInput(kind: "half-open handshake", bytes: Array(request.utf8.prefix(cut)), accepted: [0], halfOpen: true)
        case 2:
            let request = "GET /api/dashboard/ws/agents HTTP/1.1\r\nHost: x\r\n" + upgrade + "Sec-WebSocket-Version: 13\r\nX-Pad: "
            return HandshakeInput(
                kind: "oversized header",
                bytes: Array((request + String(repeating: "p", count: 40_000) + "\r\n\r\n").utf8),
                accepted: [431]
            )
        case 3:
            let version = ["8", "12", "14", "abc", ""].randomElement(using: &random)!
            let request = "GET /api/dashboard/ws/agents HTTP/1.1\r\nHost: x\r\n" + upgrade + "Sec-WebSocket-Version: \(version)\r\n\r\n"
            return HandshakeInput(kind: "bad WebSocket version", bytes: Array(request.utf8), accepted: [400, 426])
        case 4:
            let request =
                "GET /api/dashboard/ws/agents HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"
            return HandshakeInput(kind: "no Sec-WebSocket-Key", bytes: Array(request.utf8), accepted: [400])
        case 5:
            let path = ["/api/dashboard/ws/nowhere", "/", "/api/dashboard/ws/", "/%ff%fe", "/api/dashboard/ws/agents/../../x"].randomElement(
                using: &random
            )!
            let request = "GET \(path) HTTP/1.1\r\nHost: x\r\n" + upgrade + "Sec-WebSocket-Version: 13\r\n\r\n"
            return HandshakeInput(kind: "unknown path", bytes: Array(request.utf8), accepted: [400, 404])
        default:
            let method = ["POST", "PUT", "DELETE", "BREW", "G\u{0}T"].randomElement(using: &random)!
            let request =
                "\(method) /api/dashboard/ws/agents HTTP/1.1\r\nHost: x\r\n" + upgrade + "Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"
            return HandshakeInput(kind: "wrong method", bytes: Array(request.utf8), accepted: [400, 404, 405])
        }
    }
}

extension MessageInput {
    /// The input, short enough for a failure message.
    package func describe() -> String {
        switch payload {
        case .text(let text): "text \(text.prefix(80))"
        case .binary(let bytes): "binary \(bytes.count) bytes"
        }
    }
}
