// Run by .ci/check-snippets.sh beside Expected.swift.golden: defaults read through, and a member
// that was absent stays absent when the value is encoded again.
import Foundation

@main struct RoundTrip {
    static func main() throws {
        let sent = #"{"retries":5}"#
        let settings = try JSONDecoder().decode(Settings.self, from: Data(sent.utf8))
        precondition(settings.retries == 5 && settings.ratio == 0.5 && settings.mode == .safe && settings.hosts.isEmpty)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let again = String(decoding: try encoder.encode(settings), as: UTF8.self)
        precondition(again == sent, "absent defaulted members were added: \(again)")
        var changed = settings
        changed.label = "main"
        let explicit = String(decoding: try encoder.encode(changed), as: UTF8.self)
        precondition(explicit == #"{"label":"main","retries":5}"#, "a member set to its default is sent: \(explicit)")
        let made = String(decoding: try encoder.encode(Settings(retries: 1)), as: UTF8.self)
        precondition(made.contains(#""label":"main""#), "an initializer's defaults are explicit: \(made)")
        print("default: round-trips")
    }
}
