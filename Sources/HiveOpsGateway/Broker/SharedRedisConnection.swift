package import NIOCore
import NIOPosix
package import RedisClient
import Synchronization

/// One command connection to Redis that its callers share: made on first use, and made again after
/// one of them dropped it for a failure.
///
/// It is handed out as a future on the Redis event loop (``connection()``), so that a caller on that
/// loop sends at once when it is open, and callers that come while it is being made are served in
/// the order they came: a future runs its callbacks in the order they were added, and one already
/// fulfilled runs a callback added on its own loop at once. The history's records depend on that order.
package final class SharedRedisConnection: Sendable {
    private let url: RedisURL
    private let timeout: Duration
    /// Runs on each new connection before anyone uses it (the history loads its scripts).
    private let prepare: @Sendable (RedisConnection) async throws -> Void

    private struct State {
        /// The connection being made, or made; nil before the first use and after a drop or a failure.
        var future: EventLoopFuture<RedisConnection>?
        /// What `future` gave, once it did.
        var made: RedisConnection?
    }

    private let state = Mutex(State())

    package init(url: RedisURL, timeout: Duration, prepare: @escaping @Sendable (RedisConnection) async throws -> Void = { _ in }) {
        self.url = url
        self.timeout = timeout
        self.prepare = prepare
    }

    /// The open connection, or the one being made (a new one if none is).
    package func connection() -> EventLoopFuture<RedisConnection> {
        let (future, promise) = state.withLock { state -> (EventLoopFuture<RedisConnection>, EventLoopPromise<RedisConnection>?) in
            if let future = state.future, state.made?.isActive ?? true { return (future, nil) }
            let promise = RedisEventLoop.group.next().makePromise(of: RedisConnection.self)
            state = State(future: promise.futureResult, made: nil)
            return (promise.futureResult, promise)
        }
        guard let promise else { return future }
        // Kept before any caller's callback: a caller on the loop then finds it made.
        future.whenComplete { result in
            self.state.withLock { state in
                guard state.future === future else { return }
                switch result {
                case .success(let made): state.made = made
                case .failure: state = State()
                }
            }
        }
        let (url, timeout, prepare) = (url, timeout, prepare)
        Task {
            do {
                let fresh = try await RedisConnection.connect(to: url, connectTimeout: timeout, replyTimeout: timeout, group: RedisEventLoop.group)
                do {
                    try await prepare(fresh)
                } catch {
                    fresh.close()
                    throw error
                }
                promise.succeed(fresh)
            } catch {
                promise.fail(error)
            }
        }
        return future
    }

    /// The open connection, or a new one.
    package func get() async throws -> RedisConnection {
        try await connection().get()
    }

    /// Closes a connection that failed (a timed-out one is still open), so that the next caller
    /// connects afresh; only if it is still the shared one: another caller may hold a new one already.
    package func drop(_ connection: RedisConnection) {
        connection.close()
        state.withLock { if $0.made === connection { $0 = State() } }
    }

    package func close() {
        let future = state.withLock { state -> EventLoopFuture<RedisConnection>? in
            defer { state = State() }
            return state.future
        }
        // One still being made is closed when it is.
        future?.whenSuccess { $0.close() }
    }
}
