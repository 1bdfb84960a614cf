import NIOCore

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

    /// Hands each loop its flushes.
    package func submit() {
        for group in groups {
            let flushes = group.flushes
            group.loop.execute {
                for flush in flushes { flush() }
            }
        }
    }
}
