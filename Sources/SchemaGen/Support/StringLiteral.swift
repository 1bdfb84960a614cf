/// Quoting for the string literals the renderers write.
enum StringLiteral {
    /// A JSON (and TypeScript) double-quoted string literal.
    static func json(_ value: String) -> String {
        quoted(value) { scalar in
            let hex = String(scalar.value, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
    }

    /// A Swift double-quoted string literal.
    static func swift(_ value: String) -> String {
        quoted(value) { scalar in "\\u{\(String(scalar.value, radix: 16))}" }
    }

    /// The escapes both languages share; other control characters as `control` writes them.
    private static func quoted(_ value: String, control: (Unicode.Scalar) -> String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: result += control(scalar)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
