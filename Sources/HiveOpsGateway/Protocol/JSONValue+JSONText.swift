import Foundation
package import GeneratedMessages

extension JSONValue {
    /// How a reply names a value a client sent where a string was expected: a string as itself,
    /// anything else as compact JSON text with sorted keys (`Unknown data type: 5`).
    package var nameAsSent: String {
        if case .string(let string) = self { return string }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
