import HiveOpsGateway
import NIOCore
import NIOWebSocket
import Prometheus
import Testing

/// RFC 6455 rules for inbound frames, without a socket.
@Suite struct WebSocketMessageAssemblerTests {
    func frame(_ opcode: WebSocketOpcode, _ bytes: [UInt8], fin: Bool = true, masked: Bool = true, rsv1: Bool = false) -> WebSocketFrame {
        // NIO's decoder hands over the payload still masked, with the key; `unmaskedData` applies it.
        let key: WebSocketMaskingKey? = masked ? WebSocketMaskingKey([1, 2, 3, 4]) : nil
        var data = ByteBuffer(bytes: bytes)
        if let key { data.webSocketMask(key) }
        return WebSocketFrame(fin: fin, rsv1: rsv1, opcode: opcode, maskKey: key, data: data)
    }

    func text(_ string: String, fin: Bool = true) -> WebSocketFrame { frame(.text, Array(string.utf8), fin: fin) }

    @Test func aWholeTextMessageIsDelivered() {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 1024)
        #expect(assembler.receive(text(#"{"type":"ping"}"#)) == .text(ByteBuffer(string: #"{"type":"ping"}"#)))
    }

    @Test func fragmentsAreCollatedAroundControlFrames() {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 1024)
        #expect(assembler.receive(text("hel", fin: false)) == WebSocketMessageAssembler.Action.none)
        #expect(assembler.receive(frame(.ping, [7])) == .ping(ByteBuffer(bytes: [7])))
        #expect(assembler.receive(frame(.continuation, Array("lo ".utf8), fin: false)) == WebSocketMessageAssembler.Action.none)
        #expect(assembler.receive(frame(.continuation, Array("world".utf8))) == .text(ByteBuffer(string: "hello world")))
        #expect(assembler.receive(frame(.binary, [0, 255])) == .binary(ByteBuffer(bytes: [0, 255])))
    }

    @Test func protocolViolationsAre1002() {
        let violations: [[WebSocketFrame]] = [
            [frame(.text, Array("x".utf8), masked: false)],  // §5.1: clients mask
            [frame(.text, Array("x".utf8), rsv1: true)],  // no extension negotiated
            [frame(.continuation, Array("x".utf8))],  // nothing to continue
            [text("a", fin: false), text("b")],  // a new message inside a fragmented one
            [frame(WebSocketOpcode(encodedWebSocketOpcode: 3)!, [])],  // reserved opcode
        ]
        for frames in violations {
            var assembler = WebSocketMessageAssembler(maxMessageBytes: 1024)
            let actions = frames.map { assembler.receive($0) }
            #expect(actions.last == .fail(.protocolError), "\(frames.map(\.opcode))")
        }
    }

    @Test func invalidUTF8Is1007AndOversizedMessagesAre1009() {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 8)
        #expect(assembler.receive(frame(.text, [0xCE, 0xBA, 0xE1])) == .fail(.dataInconsistentWithMessage))
        var fragments = WebSocketMessageAssembler(maxMessageBytes: 8)
        #expect(fragments.receive(text("12345", fin: false)) == WebSocketMessageAssembler.Action.none)
        #expect(fragments.receive(frame(.continuation, Array("6789".utf8))) == .fail(.messageTooLarge))
        // A text message split inside a code point is valid once whole.
        var split = WebSocketMessageAssembler(maxMessageBytes: 8)
        #expect(split.receive(frame(.text, [0xCE], fin: false)) == WebSocketMessageAssembler.Action.none)
        #expect(split.receive(frame(.continuation, [0xBA])) == .text(ByteBuffer(bytes: [0xCE, 0xBA])))
    }

    @Test(
        arguments: [
            ([], 1000),
            ([0x03, 0xE8], 1000),
            ([0x0F, 0xA0, 0x68, 0x69], 1000),  // 4000 with a reason
            ([0x03], 1002),  // one byte
            ([0x03, 0xED], 1002),  // 1005 may not be sent
            ([0x03, 0xF4], 1002),  // 1012 is not accepted here
            ([0x13, 0x88], 1002),  // 5000
            ([0x03, 0xE8, 0xFF], 1007),  // reason not UTF-8
        ] as [([UInt8], Int)]
    )
    func aCloseIsAnsweredWithItsCode(body: [UInt8], answer: Int) {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 1024)
        #expect(assembler.receive(frame(.connectionClose, body)) == .peerClosed(answer: WebSocketErrorCode(codeNumber: answer)))
    }

    // MARK: permessage-deflate (RFC 7692 §6)

    static let compression = MessageCompression(thresholdBytes: 0, metrics: GatewayMetrics(registry: PrometheusCollectorRegistry()))

    func compressing(maxInflatedBytes: Int = 1024) -> WebSocketMessageAssembler {
        WebSocketMessageAssembler(maxMessageBytes: 1024, inflation: .init(compression: Self.compression, maxInflatedBytes: maxInflatedBytes))
    }

    @Test func aCompressedMessageIsInflatedWholeEvenWhenFragmented() throws {
        let compressed = try MessageCompressionTests.peerDeflate(ByteBuffer(string: #"{"type":"subscribe","subscriptions":["agents"]}"#))
        let bytes = Array(compressed.readableBytesView)
        var assembler = compressing()
        #expect(assembler.receive(frame(.text, bytes, rsv1: true)) == .text(ByteBuffer(string: #"{"type":"subscribe","subscriptions":["agents"]}"#)))
        // RSV1 on the first frame only; a ping between fragments is not compressed.
        #expect(assembler.receive(frame(.text, Array(bytes[..<5]), fin: false, rsv1: true)) == WebSocketMessageAssembler.Action.none)
        #expect(assembler.receive(frame(.ping, [1])) == .ping(ByteBuffer(bytes: [1])))
        #expect(
            assembler.receive(frame(.continuation, Array(bytes[5...])))
                == .text(ByteBuffer(string: #"{"type":"subscribe","subscriptions":["agents"]}"#))
        )
        // An uncompressed message on the same connection is as it came.
        #expect(assembler.receive(text("plain")) == .text(ByteBuffer(string: "plain")))
    }

    @Test func rsv1OutsideTheFirstDataFrameIsAProtocolError() {
        let cases: [[WebSocketFrame]] = [
            [frame(.ping, [], rsv1: true)],
            [text("a", fin: false), frame(.continuation, Array("b".utf8), rsv1: true)],
            [WebSocketFrame(fin: true, rsv2: true, opcode: .text, maskKey: [1, 2, 3, 4], data: ByteBuffer())],
        ]
        for frames in cases {
            var assembler = compressing()
            #expect(frames.map { assembler.receive($0) }.last == .fail(.protocolError))
        }
    }

    @Test func aBombIs1009CorruptDataAndInvalidUTF8Are1007() throws {
        let bomb = try MessageCompressionTests.peerDeflate(ByteBuffer(repeating: 0x20, count: 100_000))
        var assembler = compressing(maxInflatedBytes: 65_536)
        #expect(assembler.receive(frame(.text, Array(bomb.readableBytesView), rsv1: true)) == .fail(.messageTooLarge))
        var corrupt = compressing()
        #expect(corrupt.receive(frame(.text, [0xFF, 0xFF, 0xFF], rsv1: true)) == .fail(.dataInconsistentWithMessage))
        let notUTF8 = try MessageCompressionTests.peerDeflate(ByteBuffer(bytes: [0xCE, 0xBA, 0xE1]))
        var invalid = compressing()
        #expect(invalid.receive(frame(.text, Array(notUTF8.readableBytesView), rsv1: true)) == .fail(.dataInconsistentWithMessage))
    }
}
