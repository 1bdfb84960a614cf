import HiveOpsGateway

/// Resolves one setting from its flag, else its environment variable, and
/// refuses a bad value with a message naming the setting.
struct SettingsResolver {
    let environment: [String: String]

    func string(_ flag: String?, _ setting: Setting) -> String? {
        if let flag { return flag }
        guard let value = environment[setting.environment], !value.isEmpty else { return nil }
        return value
    }

    /// A flag that is set wins; otherwise `true/false`, `1/0`, `yes/no` or `on/off` from the environment.
    func boolean(_ flag: Bool, _ setting: Setting) throws -> Bool? {
        if flag { return true }
        guard let raw = environment[setting.environment], !raw.isEmpty else { return nil }
        guard let value = Self.truth(raw) else { throw SettingError(setting: setting.name, value: raw, expected: "true or false") }
        return value
    }

    /// An on/off value, from the flag or else the environment, in the same words as `boolean`.
    func toggle(_ flag: String?, _ setting: Setting) throws -> Bool? {
        guard let raw = string(flag, setting) else { return nil }
        guard let value = Self.truth(raw) else { throw SettingError(setting: setting.name, value: raw, expected: "on or off") }
        return value
    }

    private static func truth(_ raw: String) -> Bool? {
        switch raw.lowercased() {
        case "true", "1", "yes", "on": true
        case "false", "0", "no", "off": false
        default: nil
        }
    }

    func integer(_ flag: Int?, _ setting: Setting, range: ClosedRange<Int>) throws -> Int? {
        try value(flag, setting, kind: "an integer") { value in
            guard range.contains(value) else { return "an integer from \(range.lowerBound) to \(range.upperBound)" }
            return nil
        }
    }

    func number(_ flag: Double?, _ setting: Setting, minimum: Double) throws -> Double? {
        try value(flag, setting, kind: "a number") { value in
            guard value.isFinite, value >= minimum else { return "a number of at least \(minimum)" }
            return nil
        }
    }

    /// The flag, else the environment parsed as `Value`; `check` says what was expected when the value is out of range.
    private func value<Value: LosslessStringConvertible>(
        _ flag: Value?,
        _ setting: Setting,
        kind: String,
        check: (Value) -> String?
    ) throws -> Value? {
        let value: Value
        if let flag {
            value = flag
        } else if let raw = environment[setting.environment], !raw.isEmpty {
            guard let parsed = Value(raw) else { throw SettingError(setting: setting.name, value: raw, expected: kind) }
            value = parsed
        } else {
            return nil
        }
        if let expected = check(value) { throw SettingError(setting: setting.name, value: "\(value)", expected: expected) }
        return value
    }
}

struct SettingError: Error, CustomStringConvertible {
    var setting: String
    var value: String
    var expected: String

    var description: String { "invalid value '\(value)' for \(setting): expected \(expected)" }
}
