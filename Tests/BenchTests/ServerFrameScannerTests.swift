import Testing

@testable import Bench

/// The raw reader's framing: whatever way the socket's reads cut the stream, the same messages
/// come out, in order.
@Suite struct ServerFrameScannerTests {
    enum Seen: Equatable {
        case text(String)
        case ping([UInt8])
        case close
    }

    /// An unmasked server frame.
    static func frame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        var bytes = [(fin ? 0x80 : 0) | opcode]
        switch payload.count {
        case ..<126: bytes.append(UInt8(payload.count))
        case ..<65_536: bytes += [126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default: bytes += [127] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: payload.count >> ($0 * 8)) }
        }
        return bytes + payload
    }

    static func text(_ string: String, fin: Bool = true) -> [UInt8] { frame(0x1, Array(string.utf8), fin: fin) }

    /// Feeds `stream` in reads of `chunk` bytes; returns what came out.
    func scan(_ stream: [UInt8], chunk: Int, scanner: inout ServerFrameScanner) throws -> [Seen] {
        var seen: [Seen] = []
        for start in stride(from: 0, to: stream.count, by: chunk) {
            try Array(stream[start..<min(stream.count, start + chunk)]).withUnsafeBytes { bytes in
                try scanner.scan(bytes) { message in
                    switch message {
                    case .text(let text): seen.append(.text(String(decoding: text, as: UTF8.self)))
                    case .ping(let payload): seen.append(.ping(Array(payload)))
                    case .close: seen.append(.close)
                    }
                }
            }
        }
        return seen
    }

    @Test func everyLengthEncodingComesOutWholeHoweverTheReadsCutIt() throws {
        let medium = String(repeating: "m", count: 300)
        let large = String(repeating: "l", count: 70_000)
        let stream = Self.text("short") + Self.text(medium) + Self.frame(0x9, [1, 2]) + Self.text(large) + Self.frame(0x8, [0x03, 0xE8])
        let expected: [Seen] = [.text("short"), .text(medium), .ping([1, 2]), .text(large), .close]
        for chunk in [1, 2, 3, 7, 126, 4_096, stream.count] {
            var scanner = ServerFrameScanner()
            #expect(try scan(stream, chunk: chunk, scanner: &scanner) == expected, "reads of \(chunk) bytes")
        }
    }

    @Test func aFragmentedTextMessageIsJoinedAndAPingBetweenItsFragmentsGoesFirst() throws {
        let stream = Self.text("{\"seq\":", fin: false) + Self.frame(0x9, []) + Self.frame(0x0, Array("7}".utf8))
        var scanner = ServerFrameScanner()
        #expect(try scan(stream, chunk: 3, scanner: &scanner) == [.ping([]), .text("{\"seq\":7}")])
    }

    @Test func aMaskedFrameReservedBitsAndAStrayContinuationAreRefused() {
        for bad in [[0x81, 0x81, 1, 2, 3, 4, 0x61], [0xC1, 0x01, 0x61], Self.frame(0x0, [0x61]), Self.frame(0x3, [])] as [[UInt8]] {
            var scanner = ServerFrameScanner()
            #expect(throws: ServerFrameScanner.Failure.self) { try scan(bad, chunk: bad.count, scanner: &scanner) }
        }
    }

    @Test func aMessageLargerThanTheLimitIsRefusedFromItsHeader() {
        var scanner = ServerFrameScanner(maxMessageBytes: 100)
        // Only the header has arrived: the length alone refuses it.
        #expect(throws: ServerFrameScanner.Failure.tooLarge(300)) {
            try scan(Array(Self.text(String(repeating: "x", count: 300)).prefix(4)), chunk: 4, scanner: &scanner)
        }
    }
}
