/// A `pattern` made only of ASCII literals and bracket classes, each at most once, optional, or
/// repeated (`^[a-z_]+_update$`), matched over UTF-8 bytes without `Regex`: the tag patterns a
/// gateway checks on every broadcast are of this kind, and this is many times faster.
///
/// Every atom matches exactly one ASCII byte, so a multi-byte character never matches one: over
/// these patterns, byte matching and ECMA-262 matching agree. Anything else (`.`, groups,
/// alternation, `\d`, negated classes, counted repeats) is left to `Regex`.
struct SimplePattern: Sendable, Equatable {
    private struct Atom: Sendable, Equatable {
        /// Bit `b` of word `b / 64` is set when the atom matches byte `b` (ASCII only).
        var bytes: (low: UInt64, high: UInt64)
        var minimum: Int
        var unbounded: Bool

        func matches(_ byte: UInt8) -> Bool {
            byte < 64 ? bytes.low & (1 << UInt64(byte)) != 0 : byte < 128 && bytes.high & (1 << UInt64(byte - 64)) != 0
        }

        static func == (lhs: Atom, rhs: Atom) -> Bool {
            lhs.bytes == rhs.bytes && lhs.minimum == rhs.minimum && lhs.unbounded == rhs.unbounded
        }
    }

    private var atoms: [Atom] = []
    private var anchoredAtStart = false
    private var anchoredAtEnd = false

    /// nil when the pattern uses anything beyond literals, classes and `?`, `*`, `+`.
    init?(_ pattern: String) {
        var bytes = Array(pattern.utf8)[...]
        guard bytes.allSatisfy({ $0 < 128 }) else { return nil }
        if bytes.first == UInt8(ascii: "^") {
            anchoredAtStart = true
            bytes = bytes.dropFirst()
        }
        if bytes.last == UInt8(ascii: "$"), bytes.dropLast().last != UInt8(ascii: "\\") {
            anchoredAtEnd = true
            bytes = bytes.dropLast()
        }
        while let byte = bytes.popFirst() {
            var atom = Atom(bytes: (0, 0), minimum: 1, unbounded: false)
            switch byte {
            case UInt8(ascii: "["):
                guard let set = Self.bracketClass(&bytes) else { return nil }
                atom.bytes = set
            case UInt8(ascii: "\\"):
                // Only an escaped punctuation character is a literal; `\d`, `\w`, `\b`... are classes or assertions.
                guard let escaped = bytes.popFirst(), Self.isPunctuation(escaped) else { return nil }
                atom.bytes = Self.set([escaped])
            case UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "|"), UInt8(ascii: "{"), UInt8(ascii: "}"),
                UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "?"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "]"):
                return nil
            default:
                atom.bytes = Self.set([byte])
            }
            switch bytes.first {
            case UInt8(ascii: "?"): atom.minimum = 0
            case UInt8(ascii: "*"): (atom.minimum, atom.unbounded) = (0, true)
            case UInt8(ascii: "+"): atom.unbounded = true
            default:
                atoms.append(atom)
                continue
            }
            bytes = bytes.dropFirst()
            // A lazy or possessive quantifier (`+?`, `*+`) is Regex's.
            if let next = bytes.first, next == UInt8(ascii: "?") || next == UInt8(ascii: "+") || next == UInt8(ascii: "*") { return nil }
            atoms.append(atom)
        }
    }

    func matches(_ string: String) -> Bool {
        var string = string
        return string.withUTF8 { utf8 in
            if anchoredAtStart { return matches(utf8, from: 0, atom: 0) }
            return (0...utf8.count).contains { matches(utf8, from: $0, atom: 0) }
        }
    }

    /// Backtracking over the atoms; without groups a pattern of `k` repeats costs at most `n^k`.
    private func matches(_ utf8: UnsafeBufferPointer<UInt8>, from start: Int, atom index: Int) -> Bool {
        guard index < atoms.count else { return !anchoredAtEnd || start == utf8.count }
        let atom = atoms[index]
        var end = start
        let limit = atom.unbounded ? utf8.count : min(utf8.count, start + 1)
        while end < limit, atom.matches(utf8[end]) { end += 1 }
        guard end - start >= atom.minimum else { return false }
        // Greedy, then give back one byte at a time.
        for taken in stride(from: end, through: start + atom.minimum, by: -1) where matches(utf8, from: taken, atom: index + 1) {
            return true
        }
        return false
    }

    private static func set(_ bytes: [UInt8]) -> (low: UInt64, high: UInt64) {
        var set: (low: UInt64, high: UInt64) = (0, 0)
        for byte in bytes {
            if byte < 64 { set.low |= 1 << UInt64(byte) } else { set.high |= 1 << UInt64(byte - 64) }
        }
        return set
    }

    /// `a-z_0-9]` after the `[`: literals and ranges; nil for a negated class, an escape or nesting.
    private static func bracketClass(_ bytes: inout ArraySlice<UInt8>) -> (low: UInt64, high: UInt64)? {
        var members: [UInt8] = []
        guard bytes.first != UInt8(ascii: "^"), bytes.first != UInt8(ascii: "]") else { return nil }
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "]") { return set(members) }
            guard byte != UInt8(ascii: "\\"), byte != UInt8(ascii: "[") else { return nil }
            if bytes.first == UInt8(ascii: "-"), let last = bytes.dropFirst().first, last != UInt8(ascii: "]") {
                guard last >= byte, last != UInt8(ascii: "\\"), last != UInt8(ascii: "[") else { return nil }
                members += Array(byte...last)
                bytes = bytes.dropFirst(2)
            } else {
                members.append(byte)
            }
        }
        return nil
    }

    private static func isPunctuation(_ byte: UInt8) -> Bool {
        (33...47).contains(byte) || (58...64).contains(byte) || (91...96).contains(byte) || (123...126).contains(byte)
    }
}
