/// Stores a value on the heap, for a generated property whose type contains
/// its owner (a struct cannot contain itself by value).
///
/// Sendable: the class is final and its only stored property is an immutable `let` of a Sendable type.
public final class Indirect<Value: Sendable & Equatable>: Sendable, Equatable {
    public let value: Value

    public init(_ value: Value) {
        self.value = value
    }

    public static func == (lhs: Indirect, rhs: Indirect) -> Bool {
        lhs.value == rhs.value
    }
}
