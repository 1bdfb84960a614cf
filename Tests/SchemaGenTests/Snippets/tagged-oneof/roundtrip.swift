// Run by .ci/check-snippets.sh beside Expected.swift.golden: each frame decodes as the member its
// tag selects (an unknown tag as `unknown`) and encodes back to the same JSON.
import Foundation

@main struct RoundTrip {
    static func main() throws {
        let frames = [
            #"{"at":"08:00","source":"ops","type":"started"}"#,
            #"{"at":5,"type":"stopped"}"#,
            #"{"percent":40,"type":"upload_progress"}"#,
            #"{"extra":true,"type":"paused"}"#,
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var members: [Event.Member?] = []
        for frame in frames {
            let event = try JSONDecoder().decode(Event.self, from: Data(frame.utf8))
            members.append(event.member)
            let again = String(decoding: try encoder.encode(event), as: UTF8.self)
            precondition(again == frame, "\(frame) came back as \(again)")
        }
        precondition(members == [.started, .stopped, .progress, nil], "\(members)")
        print("tagged-oneof: round-trips")
    }
}
