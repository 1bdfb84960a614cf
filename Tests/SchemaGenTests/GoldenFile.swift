import Foundation
import SchemaGen
import Testing

/// Compares generated text with a committed file and fails with a unified diff.
/// `SCHEMAGEN_UPDATE_GOLDEN=1 swift test` rewrites the committed files instead;
/// review the change with `git diff` before committing it.
enum GoldenFile {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func assertMatches(
        _ actual: String,
        path: URL,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        if ProcessInfo.processInfo.environment["SCHEMAGEN_UPDATE_GOLDEN"] == "1" {
            try OutputFile.write(actual, to: path.path)
            return
        }
        let expected = (try? String(contentsOf: path, encoding: .utf8)) ?? ""
        let diff = UnifiedDiff.diff(
            old: expected,
            new: actual,
            oldName: path.lastPathComponent + " (committed)",
            newName: path.lastPathComponent + " (generated)"
        )
        #expect(diff.isEmpty, "generated output differs from \(path.path):\n\(diff)", sourceLocation: sourceLocation)
    }
}
