import CompressNIO
package import NIOCore
package import NIOWebSocket
import Prometheus
import Synchronization

/// Deflates and inflates whole WebSocket messages for permessage-deflate (RFC 7692 §7.2), with no
/// context kept between messages (the gateway negotiates no context takeover both ways).
///
/// zlib streams are costly (a 15-bit deflate stream is about 256 KiB), so none belongs to a
/// connection: a few shared slots hold them, each behind its own lock, created on first use and
/// reset after every message. A caller takes a free slot; a broadcast is deflated once, by the
/// first of its recipients' event loops to need it (``OutboundFrame``).
package final class MessageCompression: Sendable {
    package enum InflateOutcome: Equatable, Sendable {
        case inflated(ByteBuffer)
        /// The message inflates past the limit: close 1009. At most the limit and one chunk was inflated.
        case tooLarge
        /// Not a valid DEFLATE stream: close 1007.
        case corrupt
        /// zlib could not set up a stream (out of memory): close 1011.
        case unavailable
    }

    /// Messages below this many bytes go uncompressed (RSV1 clear): their few bytes saved are not worth a deflate.
    package let thresholdBytes: Int
    private let slots: [Slot]
    private let nextSlot = Atomic<Int>(0)
    private let metrics: GatewayMetrics

    /// The bytes each inflate step writes at most: the granularity of the size limit.
    static let inflateChunkBytes = 16_384
    /// RFC 7692 §7.2.1: the empty stored block a sync flush ends with, which the sender removes and
    /// the receiver appends.
    private static let syncFlushTail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

    package init(thresholdBytes: Int, metrics: GatewayMetrics, slots: Int = 4) {
        self.thresholdBytes = thresholdBytes
        self.metrics = metrics
        self.slots = (0..<max(1, slots)).map { _ in Slot() }
    }

    /// The whole unmasked frame, header and compressed payload with RSV1 set, for a final message of
    /// `opcode`; nil when the payload is below the threshold (then the caller sends it uncompressed,
    /// as §6 allows for any message). At or above it every message is compressed, even one that
    /// does not shrink (a few bytes at worst): the rule stays one number an operator can predict.
    package func deflatedFrame(_ payload: ByteBuffer, opcode: WebSocketOpcode, windowBits: Int) -> ByteBuffer? {
        guard payload.readableBytes >= thresholdBytes else { return nil }
        let frame = withSlot { codecs -> ByteBuffer? in
            do {
                let compressor = try codecs.compressor(windowBits: windowBits)
                defer { try? compressor.reset() }
                var input = payload
                codecs.scratch.clear()
                codecs.scratch.reserveCapacity(compressor.maxSize(from: payload))
                try compressor.deflate(from: &input, to: &codecs.scratch, flush: .sync)
                let length = codecs.scratch.readableBytes - Self.syncFlushTail.count
                guard input.readableBytes == 0, length > 0,
                    codecs.scratch.getBytes(at: codecs.scratch.readerIndex + length, length: Self.syncFlushTail.count) == Self.syncFlushTail
                else { return nil }
                var frame = ByteBuffer()
                frame.reserveCapacity(length + 10)
                OutboundFrame.writeFrameHeader(firstByte: 0xC0 | UInt8(webSocketOpcode: opcode), payloadLength: length, to: &frame)
                frame.writeImmutableBuffer(codecs.scratch.getSlice(at: codecs.scratch.readerIndex, length: length)!)
                return frame
            } catch {
                return nil
            }
        }
        if frame != nil { metrics.deflateOperations.increment() }
        return frame
    }

    /// One compressed message's payload (all its fragments together), inflated with a fresh window.
    package func inflate(_ compressed: ByteBuffer, maxBytes: Int) -> InflateOutcome {
        withSlot { codecs in
            guard let decompressor = try? codecs.decompressor() else { return .unavailable }
            do {
                defer { try? decompressor.reset() }
                var input = compressed
                input.writeBytes(Self.syncFlushTail)
                var output = ByteBuffer()
                output.reserveCapacity(min(maxBytes, max(256, compressed.readableBytes * 4)))
                // Each step fills at most one chunk, so the loop ends: by the input's end, or past the limit.
                while true {
                    codecs.inflateChunk.clear()
                    var chunkFull = false
                    do {
                        try decompressor.inflate(from: &input, to: &codecs.inflateChunk)
                    } catch let error as CompressNIOError where error == .bufferOverflow {
                        // zlib stopped for room: go on only if it really filled the chunk, so every turn makes progress.
                        guard codecs.inflateChunk.writableBytes == 0 else { return .corrupt }
                        chunkFull = true
                    } catch let error as CompressNIOError where error == .inputBufferOverflow {
                        // All input consumed and nothing more to write: the message is complete.
                    }
                    guard output.readableBytes + codecs.inflateChunk.readableBytes <= maxBytes else { return .tooLarge }
                    output.writeBuffer(&codecs.inflateChunk)
                    if !chunkFull { return .inflated(output) }
                }
            } catch {
                return .corrupt
            }
        }
    }

    /// Runs `body` with a free slot's codecs, or waits for one.
    private func withSlot<Result: Sendable>(_ body: (inout Codecs) -> Result) -> Result {
        let start = nextSlot.wrappingAdd(1, ordering: .relaxed).oldValue
        for offset in 0..<slots.count {
            if let result = slots[(start &+ offset) % slots.count].codecs.withLockIfAvailable({ body(&$0) }) { return result }
        }
        return slots[start % slots.count].codecs.withLock { body(&$0) }
    }

    private final class Slot: Sendable {
        let codecs = Mutex(Codecs())
    }

    /// One slot's zlib streams, created on first use: a deflate stream per window size asked for
    /// (15 nearly always), one inflate stream, and their reusable buffers.
    private struct Codecs {
        var compressors: [Int: ZlibCompressor] = [:]
        var inflater: ZlibDecompressor?
        var scratch = ByteBuffer()
        var inflateChunk = ByteBufferAllocator().buffer(capacity: MessageCompression.inflateChunkBytes)

        mutating func compressor(windowBits: Int) throws -> ZlibCompressor {
            if let compressor = compressors[windowBits] { return compressor }
            let compressor = try ZlibCompressor(
                algorithm: .deflate,
                configuration: ZlibConfiguration(windowSize: Int32(windowBits), compressionLevel: 6, memoryLevel: 8)
            )
            compressors[windowBits] = compressor
            return compressor
        }

        mutating func decompressor() throws -> ZlibDecompressor {
            if let inflater { return inflater }
            // 15 bits inflates what any window a client used (RFC 7692 §7.1.2.2: client_max_window_bits only limits the client).
            let created = try ZlibDecompressor(algorithm: .deflate, windowSize: 15)
            inflater = created
            return created
        }
    }
}
