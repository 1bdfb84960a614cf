/// Accumulates lines of source with indentation.
struct CodeWriter {
    private(set) var text = ""
    private var level = 0
    private let indentUnit: String

    init(indentUnit: String) {
        self.indentUnit = indentUnit
    }

    mutating func line(_ content: String = "") {
        text += content.isEmpty ? "\n" : String(repeating: indentUnit, count: level) + content + "\n"
    }

    /// Writes `opening`, the body one level deeper, then `closing`.
    mutating func block(_ opening: String, closing: String = "}", _ body: (inout CodeWriter) -> Void) {
        line(opening)
        indented(body)
        line(closing)
    }

    /// Writes a `switch` whose `case` labels sit at the level of the `switch`, as swift-format wants.
    mutating func switchBlock(_ opening: String, _ body: (inout CodeWriter) -> Void) {
        line(opening)
        body(&self)
        line("}")
    }

    /// Writes the body one level deeper.
    mutating func indented(_ body: (inout CodeWriter) -> Void) {
        level += 1
        body(&self)
        level -= 1
    }

    /// Writes a documentation comment, one line per line of the text.
    mutating func docComment(_ lines: [String], style: DocCommentStyle) {
        guard !lines.isEmpty else { return }
        // Every line break Swift or TypeScript might honour (`\r\n`, `\r`, U+2028...), not just `\n`,
        // or a description's next line would fall out of the comment.
        let lines = lines.flatMap { $0.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init) }
        switch style {
        case .swift:
            for docLine in lines { line(docLine.isEmpty ? "///" : "/// " + docLine) }
        case .jsDoc:
            line("/**")
            for docLine in lines { line(docLine.isEmpty ? " *" : " * " + docLine.replacingCommentTerminator()) }
            line(" */")
        }
    }

    enum DocCommentStyle {
        case swift
        case jsDoc
    }
}

extension String {
    /// `*/` inside a JSDoc comment would end it early.
    fileprivate func replacingCommentTerminator() -> String {
        var result = ""
        var previous: Character?
        for character in self {
            if previous == "*" && character == "/" { result += "\\" }
            result.append(character)
            previous = character
        }
        return result
    }
}
