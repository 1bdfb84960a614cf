import Foundation

/// Writes generated files only when their content changed, so that an
/// unchanged schema never triggers a recompile of what depends on them.
public enum OutputFile {
    /// Returns whether the file was written.
    @discardableResult
    public static func write(_ contents: String, to path: String) throws -> Bool {
        let url = URL(fileURLWithPath: path)
        let data = Data(contents.utf8)
        if let existing = try? Data(contentsOf: url), existing == data {
            return false
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
        return true
    }
}
