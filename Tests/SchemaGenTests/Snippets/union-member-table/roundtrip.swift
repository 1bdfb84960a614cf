// Run by .ci/check-snippets.sh beside Expected.swift.golden: the member table agrees with decoding.
import Foundation

@main struct RoundTrip {
    static func main() throws {
        precondition(Roster.Member2(tag: "joined") == .member && Roster.Member2(tag: "typing_fast") == .typing)
        precondition(Roster.Member2(tag: "typing_") == nil && Roster.Member2(tag: "waved") == nil)
        precondition(Roster.Member2.member.constants == ["room": "lobby"] && Roster.Member2.typing.constants.isEmpty)
        precondition(Roster.Member2.typing.tag == nil && Roster.Member2.typing.tagPattern == "^typing_[a-z]+$")
        let frames = [#"{"type":"joined","room":"lobby","member":"ada"}"#, #"{"type":"typing_slow","member":"ada"}"#, #"{"type":"waved"}"#]
        let members = try frames.map { try JSONDecoder().decode(Roster.self, from: Data($0.utf8)).member2 }
        precondition(members == [.member, .typing, nil], "\(members)")
        print("union-member-table: round-trips")
    }
}
