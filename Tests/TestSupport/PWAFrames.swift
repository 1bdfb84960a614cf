import Foundation

/// The frames today's HiveOps PWA sends, exactly (`../shared/HIVEOPS_CONTRACT.md`, "The PWA today"),
/// read from the fixtures so the tests and the fixture check use one copy: `client/ping.pwa.json`
/// and `tolerated/client/unknown.pwa-*.json`.
public enum PWAFrames {
    static let framesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appending(path: "Fixtures/frames")

    /// Each frame's `type` and its text as the PWA sends it, the heartbeat first.
    public static func all() throws -> [(type: String, text: String)] {
        let tolerated = framesDirectory.appending(path: "tolerated/client")
        let others = try FileManager.default.contentsOfDirectory(atPath: tolerated.path)
            .filter { $0.hasPrefix("unknown.pwa-") && $0.hasSuffix(".json") }.sorted()
            .map { tolerated.appending(path: $0) }
        let frames = try ([framesDirectory.appending(path: "client/ping.pwa.json")] + others).map { url in
            let text = try String(contentsOf: url, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], let type = object["type"] as? String
            else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: url.path]) }
            return (type: type, text: text)
        }
        guard frames.count == 11 else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: tolerated.path]) }
        return frames
    }
}
