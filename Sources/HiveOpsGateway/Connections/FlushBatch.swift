import NIOCore
import Synchronization

/// The flushes one broadcast owes, grouped by event loop: one task per loop runs them all, instead
/// of a task (an allocation, a lock and maybe a wake-up) per recipient.
package struct FlushBatch {
    private var groups: [(loop: any EventLoop, flushes: [@Sendable () -> Void])] = []

    package init() {}

    mutating func add(_ hooks: Connection.SocketHooks) {
        guard let loop = hooks.eventLoop else { return hooks.flushOnLoop() }
        if let index = groups.firstIndex(where: { $0.loop === loop }) {
            groups[index].flushes.append(hooks.flushOnLoop)
        } else {
            groups.append((loop, [hooks.flushOnLoop]))
        }
    }

    /// Hands each loop its flushes; `whenDone` runs once the last loop has run them (at once when
    /// there are none), on that loop.
    package func submit(whenDone: (@Sendable () -> Void)? = nil) {
        guard let whenDone else {
            for group in groups {
                let flushes = group.flushes
                group.loop.execute {
                    for flush in flushes { flush() }
                }
            }
            return
        }
        guard !groups.isEmpty else { return whenDone() }
        let countdown = Countdown(groups.count, whenDone: whenDone)
        for group in groups {
            let flushes = group.flushes
            group.loop.execute {
                for flush in flushes { flush() }
                countdown.arrive()
            }
        }
    }
}

/// Runs its action when the last of `count` parties arrives, whichever thread that is on.
private final class Countdown: Sendable {
    private let remaining: Atomic<Int>
    private let whenDone: @Sendable () -> Void

    init(_ count: Int, whenDone: @escaping @Sendable () -> Void) {
        self.remaining = Atomic(count)
        self.whenDone = whenDone
    }

    func arrive() {
        if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { whenDone() }
    }
}
