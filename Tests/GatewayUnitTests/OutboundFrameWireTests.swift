import HiveOpsGateway
import NIOCore
import Testing

/// The frame a broadcast shares with every recipient: RFC 6455 framing, encoded once.
@Suite struct OutboundFrameWireTests {
    @Test(arguments: [0, 125, 126, 65_535, 65_536, 200_000])
    func theWireFormIsAFinalUnmaskedTextFrame(payloadLength: Int) {
        let frame = OutboundFrame(bytes: ByteBuffer(repeating: UInt8(ascii: "j"), count: payloadLength), type: "t", correlationId: "c")
        var wire = frame.wire
        #expect(wire.readInteger(as: UInt8.self) == 0x81)
        let marker = wire.readInteger(as: UInt8.self)!
        #expect(marker & 0x80 == 0, "server frames are not masked")
        let length: Int
        switch marker {
        case 126: length = Int(wire.readInteger(as: UInt16.self)!)
        case 127: length = Int(wire.readInteger(as: UInt64.self)!)
        default: length = Int(marker)
        }
        #expect(length == payloadLength)
        #expect(marker == (payloadLength < 126 ? UInt8(payloadLength) : payloadLength <= 65_535 ? 126 : 127))
        #expect(wire == frame.bytes)
    }
}
