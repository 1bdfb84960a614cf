import Testing

@testable import Bench

/// The load connections' scan of each frame for its sequence number and send time: it must read
/// any server's JSON, whatever its spacing, since the bench measures other servers too.
@Suite struct FrameScanTests {
    func number(_ key: String, in text: String) -> Int? {
        Array(text.utf8).withUnsafeBytes { BenchFrameHandler.number(after: Array("\"\(key)\"".utf8), in: $0) }
    }

    @Test func membersAreReadWithAnySpacingAroundTheColon() {
        #expect(number("seq", in: #"{"data":{"seq":12,"t":345}}"#) == 12)
        #expect(number("seq", in: #"{"data": {"seq": 12, "t": 345}}"#) == 12, "as Python's json.dumps writes it")
        #expect(number("t", in: "{\"t\" :\n\t345}") == 345)
    }

    @Test func aNameThatIsAValueIsSkipped() {
        #expect(number("t", in: #"{"type":"t","data":{"t":7}}"#) == 7)
    }

    @Test func aMissingOrNonNumericMemberIsNil() {
        #expect(number("seq", in: #"{"data":{"t":1}}"#) == nil)
        #expect(number("seq", in: #"{"seq":"one"}"#) == nil)
        #expect(number("seq", in: #"{"seq":"#) == nil)
    }
}
