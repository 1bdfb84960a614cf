import NIOCore
import RedisClient
import TestSupport
import Testing

/// The RESP decoder: every type, incremental input, limits, and malformed or random input that
/// must fail cleanly, never crash.
@Suite struct RESPDecoderTests {
    func decodeAll(_ text: String, limits: RESPDecoder.Limits = .init()) throws -> [RESPValue] {
        var buffer = ByteBuffer(string: text)
        var values: [RESPValue] = []
        let decoder = RESPDecoder(limits: limits)
        while let value = try decoder.decode(&buffer) { values.append(value) }
        #expect(buffer.readableBytes == 0, "all input consumed")
        return values
    }

    @Test func resp2Types() throws {
        let values = try decodeAll("+OK\r\n-ERR wrong\r\n:-42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$1\r\na\r\n:1\r\n*-1\r\n*0\r\n$0\r\n\r\n")
        #expect(
            values == [
                .simpleString("OK"), .error("ERR wrong"), .integer(-42), .bulkString(ByteBuffer(string: "hello")), .bulkString(nil),
                .array([.bulkString(ByteBuffer(string: "a")), .integer(1)]), .array(nil), .array([]), .bulkString(ByteBuffer()),
            ]
        )
    }

    @Test func resp3Types() throws {
        let values = try decodeAll(
            "_\r\n#t\r\n#f\r\n,3.5\r\n,inf\r\n(12345678901234567890\r\n=8\r\ntxt:abcd\r\n!3\r\nBAD\r\n%1\r\n+k\r\n:1\r\n~1\r\n:2\r\n>3\r\n+message\r\n+ch\r\n$1\r\nx\r\n"
        )
        #expect(
            values == [
                .null, .boolean(true), .boolean(false), .double(3.5), .double(.infinity), .bigNumber("12345678901234567890"),
                .verbatimString("abcd"), .error("BAD"), .map([(key: .simpleString("k"), value: .integer(1))]), .set([.integer(2)]),
                .push([.simpleString("message"), .simpleString("ch"), .bulkString(ByteBuffer(string: "x"))]),
            ]
        )
    }

    @Test func incompleteInputConsumesNothing() throws {
        let decoder = RESPDecoder()
        let whole = "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$11\r\nhello world\r\n"
        for cut in 0..<whole.utf8.count {
            var buffer = ByteBuffer(string: String(whole.utf8.prefix(cut))!)
            #expect(try decoder.decode(&buffer) == nil, "cut at \(cut)")
            #expect(buffer.readableBytes == cut)
        }
    }

    @Test(arguments: [
        ("?oops\r\n", RESPDecoder.DecodingError.unknownType(UInt8(ascii: "?"))),
        (":12x\r\n", .malformed("integer \"12x\"")),
        ("$3\r\nabcde\r\n", .malformed("bulk string without CRLF")),
        ("+OK\rX", .malformed("CR without LF")),
        ("$-7\r\n", .malformed("length \"-7\"")),
        ("#x\r\n", .malformed("boolean \"x\"")),
    ])
    func malformedInputIsAnError(text: String, error: RESPDecoder.DecodingError) {
        #expect(throws: error) { _ = try decodeAll(text) }
    }

    @Test func limitsAreEnforced() {
        let limits = RESPDecoder.Limits(maxBulkLength: 10, maxDepth: 3, maxAggregateCount: 5, maxLineLength: 20)
        #expect(throws: RESPDecoder.DecodingError.limitExceeded("bulk string of 11 bytes")) { _ = try decodeAll("$11\r\n", limits: limits) }
        #expect(throws: RESPDecoder.DecodingError.limitExceeded("aggregate of 6 elements")) { _ = try decodeAll("*6\r\n", limits: limits) }
        #expect(throws: RESPDecoder.DecodingError.limitExceeded("nesting deeper than 3")) {
            _ = try decodeAll("*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", limits: limits)
        }
        #expect(throws: RESPDecoder.DecodingError.limitExceeded("line longer than 20")) {
            _ = try decodeAll("+" + String(repeating: "a", count: 30), limits: limits)
        }
    }

    /// Property: any value, encoded and fed in random pieces, decodes back to itself.
    @Test func randomValuesSurviveRandomChunking() throws {
        var generator = SeededRandom(seed: 20_261_127)
        let decoder = RESPDecoder()
        for _ in 0..<500 {
            let value = RESPValue.random(depth: 0, using: &generator)
            var encoded = ByteBuffer()
            value.encode(into: &encoded)
            var pending = ByteBuffer()
            var decoded: [RESPValue] = []
            while encoded.readableBytes > 0 {
                var piece = encoded.readSlice(length: Int.random(in: 1...max(1, min(17, encoded.readableBytes)), using: &generator))!
                pending.writeBuffer(&piece)
                while let next = try decoder.decode(&pending) { decoded.append(next) }
            }
            #expect(decoded == [value])
        }
    }

    /// Fuzz: 100,000 random byte strings (half of them mutated valid input) never crash the decoder.
    @Test func randomBytesNeverCrash() {
        var generator = SeededRandom(seed: 7)
        let decoder = RESPDecoder(limits: .init(maxBulkLength: 1 << 16, maxDepth: 8, maxAggregateCount: 1 << 10, maxLineLength: 1 << 10))
        let alphabet = Array("*$+-:_#,(=!%~>|\r\n0123456789-abc".utf8)
        var outcomes = (values: 0, incomplete: 0, errors: 0)
        for round in 0..<100_000 {
            var bytes: [UInt8]
            if round.isMultiple(of: 2) {
                bytes = (0..<Int.random(in: 0...24, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            } else {
                var valid = ByteBuffer()
                RESPValue.random(depth: 0, using: &generator).encode(into: &valid)
                bytes = Array(valid.readableBytesView)
                if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            }
            var buffer = ByteBuffer(bytes: bytes)
            do {
                while let _ = try decoder.decode(&buffer) { outcomes.values += 1 }
                outcomes.incomplete += 1
            } catch {
                outcomes.errors += 1
            }
        }
        #expect(outcomes.errors > 0 && outcomes.values > 0)
    }
}

extension RESPValue {
    static func random(depth: Int, using generator: inout SeededRandom) -> RESPValue {
        let word = String((0..<Int.random(in: 0...8, using: &generator)).map { _ in "abcxyz019 _-".randomElement(using: &generator)! })
        switch Int.random(in: 0..<(depth < 3 ? 11 : 8), using: &generator) {
        case 0: return .simpleString(word)
        case 1: return .error("ERR " + word)
        case 2: return .integer(Int64.random(in: -1_000_000...1_000_000, using: &generator))
        case 3:
            return .bulkString(
                ByteBuffer(bytes: (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            )
        case 4: return .bulkString(nil)
        case 5: return .boolean(Bool.random(using: &generator))
        case 6: return .null
        case 7: return .double(Double(Int.random(in: -1000...1000, using: &generator)) / 8)
        case 8: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in random(depth: depth + 1, using: &generator) })
        case 9: return .push((0..<Int.random(in: 0...4, using: &generator)).map { _ in random(depth: depth + 1, using: &generator) })
        default:
            return .map(
                (0..<Int.random(in: 0...3, using: &generator)).map { _ in
                    (key: random(depth: depth + 1, using: &generator), value: random(depth: depth + 1, using: &generator))
                }
            )
        }
    }

    /// Test-side encoder, written from the RESP3 specification.
    func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .simpleString(let value): buffer.writeString("+\(value)\r\n")
        case .error(let value): buffer.writeString("-\(value)\r\n")
        case .integer(let value): buffer.writeString(":\(value)\r\n")
        case .bulkString(nil): buffer.writeString("$-1\r\n")
        case .bulkString(var value?):
            buffer.writeString("$\(value.readableBytes)\r\n")
            buffer.writeBuffer(&value)
            buffer.writeString("\r\n")
        case .array(nil): buffer.writeString("*-1\r\n")
        case .array(let values?):
            buffer.writeString("*\(values.count)\r\n")
            for value in values { value.encode(into: &buffer) }
        case .null: buffer.writeString("_\r\n")
        case .double(let value): buffer.writeString(",\(value)\r\n")
        case .boolean(let value): buffer.writeString("#\(value ? "t" : "f")\r\n")
        case .bigNumber(let value): buffer.writeString("(\(value)\r\n")
        case .verbatimString(let value): buffer.writeString("=\(value.utf8.count + 4)\r\ntxt:\(value)\r\n")
        case .map(let pairs), .attribute(let pairs):
            buffer.writeString("\(self.isAttribute ? "|" : "%")\(pairs.count)\r\n")
            for pair in pairs {
                pair.key.encode(into: &buffer)
                pair.value.encode(into: &buffer)
            }
        case .set(let values), .push(let values):
            buffer.writeString("\(self.isPush ? ">" : "~")\(values.count)\r\n")
            for value in values { value.encode(into: &buffer) }
        }
    }

    var isAttribute: Bool { if case .attribute = self { true } else { false } }
    var isPush: Bool { if case .push = self { true } else { false } }
}
