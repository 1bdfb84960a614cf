package import GeneratedMessages

/// A test's own failure, with what was expected.
package struct TestFailure: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

extension ServerMessage {
    /// The `error` frame's body, if this is one.
    package var errorMessage: ErrorMessage? {
        if case .error(let error) = self { return error }
        return nil
    }
}
