import NIOCore
import Synchronization

/// Items (frames, byte chunks) received and not yet taken, with one waiting reader at most.
final class Mailbox<Item: Sendable>: Sendable {
    private struct State {
        var frames = CircularBuffer<Item>()
        var waiter: (id: Int, continuation: CheckedContinuation<Item?, Never>)?
        var nextWaiterId = 0
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.frames.count } }

    func post(_ item: Item) {
        let waiter = state.withLock { state -> CheckedContinuation<Item?, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter.continuation
            }
            state.frames.append(item)
            return nil
        }
        waiter?.resume(returning: item)
    }

    /// The next item, or `ClientError.timedOut` after `timeout`.
    func next(timeout: Duration) async throws -> Item {
        if let frame = state.withLock({ $0.frames.isEmpty ? nil : $0.frames.removeFirst() }) { return frame }
        let id = state.withLock { state -> Int in
            state.nextWaiterId += 1
            return state.nextWaiterId
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.cancelWaiter(id)
        }
        defer { timer.cancel() }
        let frame = await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
            let immediate = state.withLock { state -> Item?? in
                if !state.frames.isEmpty { return .some(state.frames.removeFirst()) }
                state.waiter = (id, continuation)
                return .none
            }
            if case .some(let frame) = immediate { continuation.resume(returning: frame) }
        }
        guard let frame else { throw WebSocketClient.ClientError.timedOut }
        return frame
    }

    private func cancelWaiter(_ id: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Item?, Never>? in
            guard let waiter = state.waiter, waiter.id == id else { return nil }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume(returning: nil)
    }
}

/// Lets the pump take frames off the socket, or holds it back.
final class ReadGate: Sendable {
    private struct State {
        var isOpen = true
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func close() {
        state.withLock { $0.isOpen = false }
    }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func waitUntilOpen() async {
        guard !state.withLock({ $0.isOpen }) else { return }
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.isOpen { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
