import HiveOpsGateway
import NIOCore
import RedisClient
import Synchronization
import TestSupport
import Testing

/// The shared command connection against a real redis-server: callers that come while it is being
/// made, and right after, reach Redis in the order they came (the history's records rely on it).
@Suite(.timeLimit(.minutes(1))) struct SharedRedisConnectionTests {
    @Test func callersAreServedInTheOrderTheyCameWhileItIsMadeAndAfter() async throws {
        let redis = try await RedisServer()
        // The connection is held in its preparation until the first callers are queued.
        let (gate, open) = AsyncStream<Void>.makeStream()
        let shared = SharedRedisConnection(url: RedisURL(host: "127.0.0.1", port: redis.port), timeout: .seconds(5)) { _ in
            for await _ in gate { break }
        }
        defer { shared.close() }
        func push(_ value: Int) -> EventLoopFuture<RESPValue> {
            shared.connection().flatMap { $0.send(["RPUSH", "order", "\(value)"]) }
        }
        var replies = (0..<50).map(push)
        open.finish()
        replies += (50..<100).map(push)
        for reply in replies { _ = try await reply.get() }

        let check = try await redis.connect()
        defer { check.close() }
        let stored = try await check.command(["LRANGE", "order", "0", "-1"]).elements?.compactMap { $0.string.flatMap { Int($0) } }
        #expect(stored == Array(0..<100))
        #expect(try await shared.get() === shared.get(), "one connection, shared")
    }

    @Test func aFailedConnectionIsMadeAgainByTheNextCaller() async throws {
        let redis = try await RedisServer()
        let attempts = Counter()
        let shared = SharedRedisConnection(url: RedisURL(host: "127.0.0.1", port: redis.port), timeout: .seconds(5)) { _ in
            if attempts.increment() == 1 { throw TestFailure("the first preparation fails") }
        }
        defer { shared.close() }
        await #expect(throws: TestFailure.self) { try await shared.get() }
        let connection = try await shared.get()
        #expect(try await connection.command(["PING"]) == .simpleString("PONG"))
        shared.drop(connection)
        #expect(try await shared.get() !== connection, "a dropped connection is not handed out again")
    }
}

/// A count shared with a connection's preparation, which runs in a task of its own.
private final class Counter: Sendable {
    private let value = Mutex(0)

    func increment() -> Int {
        value.withLock {
            $0 += 1
            return $0
        }
    }
}
