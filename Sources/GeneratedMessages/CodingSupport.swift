import Synchronization

/// Helpers the generated `Codable` conformances call.
extension KeyedDecodingContainer where Key == AnyCodingKey {
    /// Fails unless `key` holds exactly `constant`.
    public func expectConstant(_ constant: String, forKey key: AnyCodingKey) throws {
        let value = try decode(String.self, forKey: key)
        guard value == constant else {
            throw DecodingError.dataCorruptedError(
                forKey: key,
                in: self,
                debugDescription: "expected \"\(constant)\", found \"\(value)\""
            )
        }
    }

    /// Fails if `key` is present and holds anything but `constant`.
    public func expectConstantIfPresent(_ constant: String, forKey key: AnyCodingKey) throws {
        if contains(key) { try expectConstant(constant, forKey: key) }
    }

    /// Every member not in `known`, decoded as `Value`.
    public func decodeUnknownKeys<Value: Decodable>(_ type: Value.Type, known: Set<String>) throws -> [String: Value] {
        var result: [String: Value] = [:]
        for key in allKeys where !known.contains(key.stringValue) {
            result[key.stringValue] = try decode(Value.self, forKey: key)
        }
        return result
    }

    /// Decodes an optional member liberally: present with a value of another type, or `null`, it
    /// decodes as absent and the value is kept, as sent, in `kept` (the object's unknown members),
    /// so a member the receiver does not act on never makes the message invalid.
    public func decodeIfPresent<Value: Decodable>(
        _ type: Value.Type,
        forKey key: AnyCodingKey,
        keepingMistypedIn kept: inout [String: JSONValue]
    ) throws -> Value? {
        guard contains(key) else { return nil }
        if try decodeNil(forKey: key) {
            kept[key.stringValue] = .null
            return nil
        }
        do {
            return try decode(Value.self, forKey: key)
        } catch is DecodingError {
            kept[key.stringValue] = try decode(JSONValue.self, forKey: key)
            return nil
        }
    }

    /// Fails on the first member not in `known` (`additionalProperties: false`).
    public func rejectUnknownKeys(known: Set<String>) throws {
        if let key = allKeys.first(where: { !known.contains($0.stringValue) }) {
            throw DecodingError.dataCorruptedError(
                forKey: key,
                in: self,
                debugDescription: "unexpected member \"\(key.stringValue)\""
            )
        }
    }
}

extension KeyedEncodingContainer where Key == AnyCodingKey {
    /// Writes an optional member, or, when it is absent, the mistyped value kept for it at decoding.
    public mutating func encodeIfPresent<Value: Encodable>(
        _ value: Value?,
        forKey key: AnyCodingKey,
        orKept kept: [String: JSONValue]
    ) throws {
        if let value {
            try encode(value, forKey: key)
        } else if let sent = kept[key.stringValue] {
            try encode(sent, forKey: key)
        }
    }

    /// Writes the kept unknown members, skipping any that would shadow a known one.
    public mutating func encodeUnknownKeys<Value: Encodable>(_ values: [String: Value], known: Set<String>) throws {
        for (key, value) in values where !known.contains(key) {
            try encode(value, forKey: AnyCodingKey(key))
        }
    }
}

extension String {
    /// Whether the string matches a JSON Schema `pattern` (an unanchored ECMA-style regular expression).
    /// Compiled patterns are cached: compiling one costs far more than matching it.
    public func matchesPattern(_ pattern: String) -> Bool {
        PatternCache.shared.matches(self, pattern: pattern)
    }
}

/// Compiled `pattern`s, by source. The schema has a handful, so the cache stays small. A pattern
/// of literals and classes is matched by ``SimplePattern``, outside the lock; a `Regex` is not
/// `Sendable`, so every use of one stays inside it.
final class PatternCache: Sendable {
    static let shared = PatternCache()

    private enum Compiled {
        case simple(SimplePattern)
        case regex(Regex<AnyRegexOutput>)
        case invalid
    }

    private let compiled = Mutex<[String: Compiled]>([:])

    func matches(_ string: String, pattern: String) -> Bool {
        enum Outcome {
            case decided(Bool)
            /// Matched after the lock is released: a `SimplePattern` is a value.
            case simple(SimplePattern)
        }
        let outcome: Outcome = compiled.withLock { cache in
            let entry: Compiled
            if let cached = cache[pattern] {
                entry = cached
            } else {
                entry = SimplePattern(pattern).map(Compiled.simple) ?? (try? Regex(pattern)).map(Compiled.regex) ?? .invalid
                cache[pattern] = entry
            }
            switch entry {
            case .simple(let simple): return .simple(simple)
            case .regex(let regex): return .decided(string.firstMatch(of: regex) != nil)
            case .invalid: return .decided(false)
            }
        }
        switch outcome {
        case .decided(let matched): return matched
        case .simple(let simple): return simple.matches(string)
        }
    }
}
