/// One extension of a `Sec-WebSocket-Extensions` header (RFC 6455 §9.1):
/// `name *( ";" param [ "=" ( token / quoted-string ) ] )`, the list separated by commas.
struct ExtensionOffer: Equatable {
    struct Parameter: Equatable {
        var name: Substring
        /// nil when the parameter has no `=`; a quoted value without its quotes and escapes.
        var value: Substring?
    }

    var name: Substring
    var parameters: [Parameter]

    /// Every extension in one header value, in order. Liberal: optional whitespace anywhere
    /// between the parts, empty list elements skipped, a quoted value may hold `,` and `;`.
    static func parse(_ headerValue: String) -> [ExtensionOffer] {
        split(Substring(headerValue), on: ",").compactMap { element in
            let parts = split(element, on: ";")
            let name = trimmed(parts[0])
            guard !name.isEmpty else { return nil }
            let parameters = parts.dropFirst().compactMap { part -> Parameter? in
                let part = trimmed(part)
                guard !part.isEmpty else { return nil }
                guard let equals = part.firstIndex(of: "=") else { return Parameter(name: part, value: nil) }
                return Parameter(name: trimmed(part[..<equals]), value: unquoted(trimmed(part[part.index(after: equals)...])))
            }
            return ExtensionOffer(name: name, parameters: parameters)
        }
    }

    /// Splits at `separator` outside quoted strings.
    private static func split(_ text: Substring, on separator: Character) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var quoted = false
        var escaped = false
        for index in text.indices {
            let character = text[index]
            if escaped {
                escaped = false
            } else if quoted, character == "\\" {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if !quoted, character == separator {
                parts.append(text[start..<index])
                start = text.index(after: index)
            }
        }
        parts.append(text[start...])
        return parts
    }

    private static func trimmed(_ text: Substring) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
        return text[first...last]
    }

    private static func unquoted(_ value: Substring) -> Substring {
        guard value.count >= 2, value.first == "\"", value.last == "\"" else { return value }
        var result = ""
        var escaped = false
        for character in value.dropFirst().dropLast() {
            if !escaped, character == "\\" {
                escaped = true
                continue
            }
            escaped = false
            result.append(character)
        }
        return Substring(result)
    }
}
