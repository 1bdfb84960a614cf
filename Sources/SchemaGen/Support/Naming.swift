/// Turns schema names into identifiers, the same way for both languages.
enum Naming {
    /// `project_index` → `ProjectIndex`, `connection-info` → `ConnectionInfo`, `ServerMessage` → `ServerMessage`.
    static func typeName(_ raw: String) -> String {
        let name = words(raw).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        guard let first = name.first else { return "_" }
        return first.isNumber ? "_" + name : name
    }

    /// Type names the generated code and its runtime use (the Swift standard library's, the
    /// `GeneratedMessages` runtime's, and `JSONValue`, which the `.d.ts` declares too): a schema's type
    /// may not take them, or it would shadow them in the module.
    static let reservedTypeNames: Set<String> = [
        "String", "Substring", "Character", "Int", "Double", "Float", "Bool", "Array", "Dictionary", "Set", "Optional",
        "Never", "Void", "Any", "AnyObject", "Self", "Type", "Protocol", "Error", "Result", "Regex", "Codable", "Decodable",
        "Encodable", "Decoder", "Encoder", "CodingKey", "DecodingError", "EncodingError", "KeyedDecodingContainer",
        "KeyedEncodingContainer", "Sendable", "Equatable", "Hashable", "CaseIterable", "RawRepresentable",
        "JSONValue", "AnyCodingKey", "Indirect", "MessageContract", "Mutex",
    ]

    /// A type name safe to declare: one with no identifier characters is `Unnamed`, a reserved one
    /// takes `Type` after it (`$defs/string` → `StringType`, `JSONValue` → `JSONValueType`).
    static func declarableTypeName(_ name: String) -> String {
        if name == "_" { return "Unnamed" }
        return reservedTypeNames.contains(name) ? name + "Type" : name
    }

    /// `base`, or the first of `base2`, `base3`, ... that is not taken; the name chosen is taken from then on.
    static func unique(_ base: String, in taken: inout Set<String>) -> String {
        var candidate = base
        var number = 2
        while taken.contains(candidate) {
            candidate = base + String(number)
            number += 1
        }
        taken.insert(candidate)
        return candidate
    }

    /// `connection_id` → `connectionId`, `ServerFrameBase` → `serverFrameBase`.
    static func memberName(_ raw: String) -> String {
        let parts = words(raw)
        guard let head = parts.first else { return "_" }
        let name = lowercasingLeadingCapitals(head) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        guard let first = name.first else { return "_" }
        return first.isNumber ? "_" + name : name
    }

    /// Splits on anything that is not a letter or digit.
    private static func words(_ raw: String) -> [String] {
        raw.split { !($0.isLetter || $0.isNumber) || !$0.isASCII }.map(String.init)
    }

    /// `URLPath` → `urlPath`, `Pong` → `pong`, `ID` → `id`.
    private static func lowercasingLeadingCapitals(_ word: String) -> String {
        let characters = Array(word)
        var upperRun = 0
        while upperRun < characters.count, characters[upperRun].isUppercase { upperRun += 1 }
        switch upperRun {
        case 0: return word
        case 1, characters.count: return String(characters[0..<upperRun]).lowercased() + String(characters[upperRun...])
        default:
            // Keep the last capital of a run when a lowercase word follows it: `URLPath` → `urlPath`.
            return String(characters[0..<upperRun - 1]).lowercased() + String(characters[(upperRun - 1)...])
        }
    }
}
