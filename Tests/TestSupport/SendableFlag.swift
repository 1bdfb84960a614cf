import Synchronization

/// A flag that tasks and callbacks set and a test reads.
public final class SendableFlag: Sendable {
    private let value = Mutex(false)

    public init() {}

    public func set() { value.withLock { $0 = true } }
    public var isSet: Bool { value.withLock { $0 } }
}

/// A count that tasks and callbacks increment and a test reads.
public final class SendableCounter: Sendable {
    private let value = Mutex(0)

    public init() {}

    public func increment() { value.withLock { $0 += 1 } }
    public var count: Int { value.withLock { $0 } }
}
