import CompressNIO
import Foundation
import GatewayClient
import NIOCore
import NIOWebSocket
import Prometheus
import Testing

@testable import HiveOpsGateway

/// RFC 7692 §7.2 on whole messages, checked against zlib used directly (CompressNIO) as the peer.
@Suite struct MessageCompressionTests {
    let compression = MessageCompression(thresholdBytes: 256, metrics: GatewayMetrics(registry: PrometheusCollectorRegistry()))

    static let agentUpdate = ByteBuffer(
        string: #"{"type":"agent_update","data":{"agents":["#
            + (0..<40).map { #"{"id":"agent-\#($0)","status":"active","current_task":"index repository","load":0.\#($0 % 10)}"# }
            .joined(separator: ",") + "]}}"
    )

    /// What a peer does with a compressed payload: append the sync-flush tail and inflate with `windowBits`.
    static func peerInflate(_ payload: ByteBuffer, windowBits: Int32 = 15) throws -> ByteBuffer {
        var input = payload
        input.writeBytes([0x00, 0x00, 0xFF, 0xFF])
        return try input.decompress(with: .deflate, configuration: ZlibConfiguration(windowSize: windowBits))
    }

    /// What a peer sends: a sync-flushed raw deflate stream without its tail.
    static func peerDeflate(_ text: ByteBuffer) throws -> ByteBuffer {
        let compressor = try ZlibCompressor(algorithm: .deflate)
        var input = text
        var output = ByteBufferAllocator().buffer(capacity: compressor.maxSize(from: text))
        try compressor.deflate(from: &input, to: &output, flush: .sync)
        output.moveWriterIndex(to: output.writerIndex - 4)
        return output
    }

    /// The payload of a whole frame the gateway wrote, and its first byte.
    static func payload(ofFrame frame: ByteBuffer) -> (firstByte: UInt8, payload: ByteBuffer) {
        var copy = frame
        let parsed = RawConnection.parseFrame(&copy)
        return (frame.getInteger(at: frame.readerIndex)!, ByteBuffer(bytes: parsed?.payload ?? []))
    }

    @Test(arguments: [15, 12, 9])
    func aDeflatedFrameHasRSV1AndInflatesWithTheNegotiatedWindow(windowBits: Int) throws {
        let frame = try #require(compression.deflatedFrame(Self.agentUpdate, opcode: .text, windowBits: windowBits))
        let (firstByte, payload) = Self.payload(ofFrame: frame)
        #expect(firstByte == 0xC1)  // FIN, RSV1, text
        #expect(payload.readableBytes < Self.agentUpdate.readableBytes / 3)
        #expect(try Self.peerInflate(payload, windowBits: Int32(windowBits)) == Self.agentUpdate)
    }

    @Test func aMessageBelowTheThresholdIsNotCompressedAndOneAtItIs() {
        #expect(compression.deflatedFrame(ByteBuffer(repeating: 0x61, count: 255), opcode: .text, windowBits: 15) == nil)
        #expect(compression.deflatedFrame(ByteBuffer(repeating: 0x61, count: 256), opcode: .binary, windowBits: 15) != nil)
    }

    @Test func eachMessageIsDeflatedWithoutContextFromThePrevious() throws {
        // With context takeover the second frame would refer back into the first and be far smaller.
        let first = try #require(compression.deflatedFrame(Self.agentUpdate, opcode: .text, windowBits: 15))
        let second = try #require(compression.deflatedFrame(Self.agentUpdate, opcode: .text, windowBits: 15))
        #expect(first == second)
        #expect(try Self.peerInflate(Self.payload(ofFrame: second).payload) == Self.agentUpdate)
    }

    @Test func aPeerMessageInflatesAcrossChunksUpToItsLimit() throws {
        let large = ByteBuffer(string: String(repeating: #"{"id":"agent","status":"active"},"#, count: 2_000))
        let compressed = try Self.peerDeflate(large)
        #expect(compression.inflate(compressed, maxBytes: large.readableBytes) == .inflated(large))
        #expect(compression.inflate(compressed, maxBytes: large.readableBytes - 1) == .tooLarge)
        // The streams are reused: a second message inflates alike.
        #expect(compression.inflate(compressed, maxBytes: 1 << 20) == .inflated(large))
    }

    @Test func aDecompressionBombStopsAtTheLimit() throws {
        // 1 MiB of zeros deflates to about a kilobyte.
        let bomb = try Self.peerDeflate(ByteBuffer(repeating: 0, count: 1 << 20))
        #expect(bomb.readableBytes < 2_048)
        #expect(compression.inflate(bomb, maxBytes: 65_536) == .tooLarge)
    }

    @Test func invalidDeflateDataIsCorruptAndAFinalBlockEndsTheMessage() throws {
        #expect(compression.inflate(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF]), maxBytes: 1_024) == .corrupt)
        // A sender may end with BFINAL set (zlib's finish); bytes after the end are not read.
        var hello = ByteBuffer(string: "hello")
        var finished = try hello.compress(with: .deflate)
        finished.writeBytes([1, 2, 3])
        #expect(compression.inflate(finished, maxBytes: 1_024) == .inflated(ByteBuffer(string: "hello")))
    }
}
