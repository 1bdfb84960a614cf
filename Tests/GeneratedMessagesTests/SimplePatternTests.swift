import Testing

@testable import GeneratedMessages

/// `SimplePattern` is a fast path for `matchesPattern`: over the patterns it takes, it must agree
/// with `Regex` on every string, and it must leave every other pattern to `Regex`.
@Suite struct SimplePatternTests {
    static let simplePatterns = [
        "^[a-z_]+_update$", "_update$", "^agent", "abc", "^a?b*c+$", "^[A-Za-z0-9_-]+$", "x[0-9]?y", "^$", "", "\\.json$",
        "^[a-c]*[b-d]+c$", "a-b", "^[-a]+$",
    ]
    static let regexOnlyPatterns = [
        "^.+$", "(ab)+", "a|b", "\\d+", "\\w", "[^a-z]", "a{2}", "a+?", "[a\\]]", "é+", "\\bword", "^[z-a]$", "a**",
    ]

    @Test(arguments: simplePatterns) func agreesWithRegexOnEveryString(pattern: String) throws {
        let simple = try #require(SimplePattern(pattern), "\(pattern) should take the fast path")
        let regex = try Regex(pattern)
        let alphabet = ["a", "b", "c", "d", "_", "-", ".", "x", "y", "0", "7", "A", "é", " ", "update", "_update", "agent", "json"]
        var generator = SplitMix(seed: UInt64(truncatingIfNeeded: pattern.hashValue))
        var samples = ["", "agent_update", "agent_update ", "Agent_update", "a1_update", "__update", "é_update", "abc", "x7y", "file.json"]
        for _ in 0..<2_000 {
            let length = Int(generator.next() % 8)
            samples.append((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }.joined())
        }
        for sample in samples {
            #expect(simple.matches(sample) == (sample.firstMatch(of: regex) != nil), "\(pattern) on \"\(sample)\"")
        }
    }

    @Test(arguments: regexOnlyPatterns) func leavesEverythingElseToRegex(pattern: String) {
        #expect(SimplePattern(pattern) == nil, "\(pattern)")
    }

    @Test func matchesPatternUsesEitherPathAlike() {
        #expect("agent_update".matchesPattern("^[a-z_]+_update$"))
        #expect(!"agent-update".matchesPattern("^[a-z_]+_update$"))
        #expect("a12".matchesPattern("^a\\d+$"))
        #expect(!"anything".matchesPattern("(unclosed"))
    }
}

/// A seeded generator, so that a failure names a reproducible sample.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
