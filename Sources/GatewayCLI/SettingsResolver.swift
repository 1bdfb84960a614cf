import Logging

/// Resolves one setting from its flag, else its environment variable, and
/// refuses a bad value with a message naming the setting.
struct SettingsResolver {
    let environment: [String: String]

    func string(_ flag: String?, flag name: String, env: String) throws -> String? {
        if let flag { return flag }
        guard let value = environment[env], !value.isEmpty else { return nil }
        return value
    }

    /// A flag that is set wins; otherwise `true/false`, `1/0`, `yes/no` or `on/off` from the environment.
    func boolean(_ flag: Bool, flag name: String, env: String) throws -> Bool? {
        if flag { return true }
        guard let raw = environment[env], !raw.isEmpty else { return nil }
        switch raw.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw SettingError(setting: "\(name) (\(env))", value: raw, expected: "true or false")
        }
    }

    func integer(_ flag: Int?, flag name: String, env: String, range: ClosedRange<Int>) throws -> Int? {
        let value: Int
        if let flag {
            value = flag
        } else if let raw = environment[env], !raw.isEmpty {
            guard let parsed = Int(raw) else { throw SettingError(setting: "\(name) (\(env))", value: raw, expected: "an integer") }
            value = parsed
        } else {
            return nil
        }
        guard range.contains(value) else {
            throw SettingError(setting: "\(name) (\(env))", value: "\(value)", expected: "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func number(_ flag: Double?, flag name: String, env: String, minimum: Double) throws -> Double? {
        let value: Double
        if let flag {
            value = flag
        } else if let raw = environment[env], !raw.isEmpty {
            guard let parsed = Double(raw) else { throw SettingError(setting: "\(name) (\(env))", value: raw, expected: "a number") }
            value = parsed
        } else {
            return nil
        }
        guard value.isFinite, value >= minimum else {
            throw SettingError(setting: "\(name) (\(env))", value: "\(value)", expected: "a number of at least \(minimum)")
        }
        return value
    }
}

struct SettingError: Error, CustomStringConvertible {
    var setting: String
    var value: String
    var expected: String

    var description: String { "invalid value '\(value)' for \(setting): expected \(expected)" }
}
