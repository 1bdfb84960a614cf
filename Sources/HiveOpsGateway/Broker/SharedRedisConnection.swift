package import RedisClient
import Synchronization

/// One command connection to Redis that its callers share: made on first use, and made again after
/// one of them dropped it for a failure.
package final class SharedRedisConnection: Sendable {
    private let url: RedisURL
    private let timeout: Duration
    /// Runs on each new connection before anyone uses it (the history loads its scripts).
    private let prepare: @Sendable (RedisConnection) async throws -> Void
    private let current = Mutex<RedisConnection?>(nil)

    package init(url: RedisURL, timeout: Duration, prepare: @escaping @Sendable (RedisConnection) async throws -> Void = { _ in }) {
        self.url = url
        self.timeout = timeout
        self.prepare = prepare
    }

    /// The open connection, or a new one.
    package func get() async throws -> RedisConnection {
        if let existing = current.withLock({ $0 }), existing.isActive { return existing }
        let fresh = try await RedisConnection.connect(to: url, connectTimeout: timeout, replyTimeout: timeout, group: RedisEventLoop.group)
        do {
            try await prepare(fresh)
        } catch {
            fresh.close()
            throw error
        }
        // Two callers may connect at once: the first one stored wins, the other is closed unused.
        let winner = current.withLock { current -> RedisConnection in
            if let current, current.isActive { return current }
            current = fresh
            return fresh
        }
        if winner !== fresh { fresh.close() }
        return winner
    }

    /// Closes a connection that failed (a timed-out one is still open), so that the next caller
    /// connects afresh; only if it is still the shared one: another caller may hold a new one already.
    package func drop(_ connection: RedisConnection) {
        connection.close()
        current.withLock { if $0 === connection { $0 = nil } }
    }

    package func close() {
        current.withLock { $0?.close() }
    }
}
