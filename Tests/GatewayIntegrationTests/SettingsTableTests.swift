import Foundation
import HiveOpsGateway
import Testing

/// The settings table is the one source of `--help`, the resolver's messages and the README's
/// tables. `SETTINGS_UPDATE_README=1 swift test --filter SettingsTableTests` rewrites the README's
/// tables; review the change with `git diff`.
@Suite struct SettingsTableTests {
    static let readme = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appending(path: "README.md")

    @Test(arguments: [Setting.Group.server, .access])
    func theReadmeTableIsTheSettingsTable(_ group: Setting.Group) throws {
        var text = try String(contentsOf: Self.readme, encoding: .utf8)
        let open = "<!-- settings:\(group.rawValue)"
        let close = "<!-- /settings:\(group.rawValue) -->"
        guard let start = text.range(of: open), let end = text.range(of: close, range: start.upperBound..<text.endIndex),
            let body = text.range(of: "-->\n", range: start.upperBound..<end.lowerBound)
        else {
            Issue.record("README.md has no \(open) ... \(close) section")
            return
        }
        let expected = Setting.markdownTable(group) + "\n"
        if ProcessInfo.processInfo.environment["SETTINGS_UPDATE_README"] == "1" {
            text.replaceSubrange(body.upperBound..<end.lowerBound, with: expected)
            try text.write(to: Self.readme, atomically: true, encoding: .utf8)
            return
        }
        #expect(String(text[body.upperBound..<end.lowerBound]) == expected, "run SETTINGS_UPDATE_README=1 swift test --filter SettingsTableTests")
    }

    @Test func everySettingHasOneFlagAndOneVariable() {
        #expect(Set(Setting.all.map(\.flag)).count == Setting.all.count)
        #expect(Set(Setting.all.map(\.environment)).count == Setting.all.count)
        #expect(Setting.all.allSatisfy { $0.flag.hasPrefix("--") && !$0.environment.isEmpty })
    }

    @Test func theHelpOfTheRealBinaryListsEverySettingAsTheTableSaysIt() throws {
        let help = try GatewayProcess.runToCompletion(["--help"]).stdout
        // ArgumentParser wraps lines: compare with white space folded.
        let folded = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for setting in Setting.all {
            #expect(folded.contains(setting.flag), "\(setting.flag) is not an option")
            #expect(folded.contains(setting.help.split(whereSeparator: \.isWhitespace).joined(separator: " ")), "\(setting.flag): help differs")
        }
    }
}
