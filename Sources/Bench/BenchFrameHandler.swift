import GatewayClient
import HiveOpsGateway
import NIOCore
import NIOWebSocket
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What one load connection saw. Written on its event loop, read by the report.
final class ConnectionTally: Sendable {
    /// Whether this connection stopped reading after its greeting.
    let stalled: Bool
    let received = Atomic<Int>(0)
    let outOfOrder = Atomic<Int>(0)
    let lastSequence = Atomic<Int>(0)
    let closed = Atomic<Bool>(false)

    init(stalled: Bool) {
        self.stalled = stalled
    }

    /// Counts a text message received at `receivedAt` (``MonotonicClock``) when it is one of the
    /// bench's events (its type's `eventMarker`, a `"seq"` and a `"t"`): its latency, and its order.
    func count(_ text: UnsafeRawBufferPointer, receivedAt: Int, eventMarker: [UInt8], latencies: LatencyRecorder) {
        guard BenchFrameHandler.find(eventMarker, in: text) != nil,
            let sequence = BenchFrameHandler.number(after: BenchFrameHandler.sequenceKey, in: text),
            let sentAt = BenchFrameHandler.number(after: BenchFrameHandler.timeKey, in: text)
        else { return }
        received.add(1, ordering: .relaxed)
        let previous = lastSequence.exchange(sequence, ordering: .relaxed)
        if sequence <= previous { outOfOrder.add(1, ordering: .relaxed) }
        latencies.record(nanoseconds: max(0, receivedAt - sentAt))
    }
}

/// Consumes a load connection's frames without decoding them: it finds `"seq":` and `"t":`
/// in each event's bytes, records the publish→receive latency and checks the order.
final class BenchFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let tally: ConnectionTally
    private let latencies: LatencyRecorder
    private let eventMarker: [UInt8]
    /// With `--compression`: inflates frames with RSV1 set, as a browser would.
    private let inflater: MessageCompression?

    init(tally: ConnectionTally, latencies: LatencyRecorder, eventType: String, inflater: MessageCompression? = nil) {
        self.tally = tally
        self.latencies = latencies
        self.eventMarker = Self.marker(of: eventType)
        self.inflater = inflater
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            // Received now: the gateway's latency, without this client's own inflating.
            let now = MonotonicClock.nanoseconds()
            var text = frame.data
            if frame.rsv1 {
                // A frame that does not inflate is not counted as received: it shows as loss.
                guard let inflater, case .inflated(let inflated) = inflater.inflate(frame.data, maxBytes: 1 << 24) else { return }
                text = inflated
            }
            text.withUnsafeReadableBytes { tally.count($0, receivedAt: now, eventMarker: eventMarker, latencies: latencies) }
        case .ping:
            context.writeAndFlush(wrapOutboundOut(ClientWire.pong(answering: frame)), promise: nil)
        case .connectionClose:
            tally.closed.store(true, ordering: .relaxed)
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        tally.closed.store(true, ordering: .relaxed)
        context.fireChannelInactive()
    }

    /// What an event of `eventType` carries: its type, quoted.
    static func marker(of eventType: String) -> [UInt8] { Array("\"\(eventType)\"".utf8) }

    static let sequenceKey = Array("\"seq\"".utf8)
    static let timeKey = Array("\"t\"".utf8)

    /// Where `needle` starts in `bytes`, from `offset` on: glibc's `memchr` to each candidate first
    /// byte and `memcmp` there, with no allocation, since it runs for every frame of a load test (a
    /// byte-by-byte scan in Swift was a tenth of this client's CPU at 10,000 connections, more than
    /// the frame's WebSocket decoding).
    static func find(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer, from offset: Int = 0) -> Int? {
        guard let first = needle.first, offset >= 0, bytes.count - offset >= needle.count, let base = bytes.baseAddress else { return nil }
        return needle.withUnsafeBytes { needle -> Int? in
            guard let pattern = needle.baseAddress else { return nil }
            let last = bytes.count - needle.count
            var index = offset
            while index <= last {
                guard let candidate = memchr(base + index, Int32(first), last - index + 1) else { return nil }
                index = base.distance(to: UnsafeRawPointer(candidate))
                if memcmp(candidate, pattern, needle.count) == 0 { return index }
                index += 1
            }
            return nil
        }
    }

    /// The unsigned integer value of the member named by `key` (a quoted name), with any JSON
    /// whitespace around the colon (`"seq":1` as we write it, `"seq": 1` as Python does). An
    /// occurrence that is not followed by a colon (a string value) is skipped.
    static func number(after key: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int? {
        var searchFrom = 0
        while let start = find(key, in: bytes, from: searchFrom) {
            searchFrom = start + 1
            var index = skipWhitespace(in: bytes, from: start + key.count)
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { continue }
            index = skipWhitespace(in: bytes, from: index + 1)
            var value = 0
            var digits = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                index += 1
                digits += 1
            }
            return digits > 0 ? value : nil
        }
        return nil
    }

    private static func skipWhitespace(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return index
            }
        }
        return index
    }
}

enum MonotonicClock {
    /// Nanoseconds on CLOCK_MONOTONIC: the publisher and the receivers share this process.
    static func nanoseconds() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1_000_000_000 + time.tv_nsec
    }
}

// A channel handler lives on its channel's event loop; it is never shared across threads.
@available(*, unavailable)
extension BenchFrameHandler: Sendable {}
