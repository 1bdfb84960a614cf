public import NIOCore
public import NIOPosix
import Synchronization

/// One connection to Redis: commands with replies in order, and a stream of
/// pub/sub pushes. The channel handler only decodes and hands off.
public final class RedisConnection: Sendable {
    public enum ConnectionError: Error, Equatable, CustomStringConvertible {
        case closed
        case timedOut(String)
        case errorReply(String)

        public var description: String {
            switch self {
            case .closed: "connection closed"
            case .timedOut(let what): "timed out waiting for \(what)"
            case .errorReply(let message): "error reply: \(message)"
            }
        }
    }

    private let channel: any Channel
    /// Pub/sub messages and confirmations, in order, each with when it arrived; finished when the
    /// connection closes.
    public let pushes: AsyncStream<RedisPush>
    private let lastRead: LastRead

    private init(channel: any Channel, pushes: AsyncStream<RedisPush>, lastRead: LastRead) {
        self.channel = channel
        self.pushes = pushes
        self.lastRead = lastRead
    }

    /// When the last value arrived from Redis, measured where it is decoded, not where it is
    /// processed: a backlog of pushes waiting for the consumer still proves the connection alive.
    public var lastReadAt: ContinuousClock.Instant {
        lastRead.instant
    }

    /// Connects, then authenticates and selects the database the URL names. `takePush`, when given,
    /// sees each push first, on the connection's event loop as it is decoded; the pushes it takes
    /// (returns true for) do not go to `pushes`. A subscriber that handles its messages there spares
    /// each one two thread hops: into a task that reads the stream, and back to the loop.
    public static func connect(
        to url: RedisURL,
        connectTimeout: Duration = .seconds(3),
        replyTimeout: Duration = .seconds(3),
        limits: RESPDecoder.Limits = RESPDecoder.Limits(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        takePush: (@Sendable (RedisPush) -> Bool)? = nil
    ) async throws -> RedisConnection {
        let (pushes, continuation) = AsyncStream<RedisPush>.makeStream()
        let lastRead = LastRead()
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(connectTimeout.components.seconds * 1_000_000_000 + connectTimeout.components.attoseconds / 1_000_000_000))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPFrameDecoder(decoder: RESPDecoder(limits: limits))))
                    try channel.pipeline.syncOperations.addHandler(
                        RedisChannelHandler(
                            onRead: { lastRead.touch() },
                            onPush: { value in
                                let push = RedisPush(value: value, receivedAt: .now)
                                if takePush?(push) != true { continuation.yield(push) }
                            },
                            onClose: { _ in continuation.finish() }
                        )
                    )
                }
            }
            .connect(host: url.host, port: url.port)
            .get()
        let connection = RedisConnection(channel: channel, pushes: pushes, lastRead: lastRead)
        do {
            // RESP3 (pub/sub messages arrive as push frames), authenticating in the same round trip;
            // a Redis older than 6 does not know HELLO and gets RESP2 with AUTH.
            var hello = ["HELLO", "3"]
            if let password = url.password { hello += ["AUTH", url.user ?? "default", password] }
            do {
                try await connection.command(hello, timeout: replyTimeout)
            } catch ConnectionError.errorReply(let message) where message.hasPrefix("ERR unknown command") || message.hasPrefix("NOPROTO") {
                if let password = url.password {
                    try await connection.command(url.user.map { ["AUTH", $0, password] } ?? ["AUTH", password], timeout: replyTimeout)
                }
            }
            if url.database != 0 {
                try await connection.command(["SELECT", String(url.database)], timeout: replyTimeout)
            }
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    /// Sends a command and waits for its reply; an error reply throws.
    @discardableResult
    public func command(_ arguments: [String], timeout: Duration = .seconds(3)) async throws -> RESPValue {
        try await send(arguments, timeout: timeout).get()
    }

    /// Sends a command now and returns its reply to come: commands sent one after another are
    /// pipelined, and answered in order. An error reply fails the future.
    public func send(_ arguments: [String], timeout: Duration = .seconds(3)) -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout / .nanoseconds(1)))) {
            promise.fail(ConnectionError.timedOut("the reply to \(arguments.first ?? "")"))
        }
        channel.writeAndFlush(RedisRequest(bytes: RESPCommand.encode(arguments), reply: promise), promise: nil)
        return promise.futureResult.always { _ in timer.cancel() }.flatMapThrowing { reply in
            if case .error(let message) = reply { throw ConnectionError.errorReply(message) }
            return reply
        }
    }

    /// Sends commands whose answers arrive as pushes (SUBSCRIBE, PSUBSCRIBE, subscribed-mode PING), in one write.
    public func sendWithoutReply(_ commands: [[String]]) async throws {
        var buffer = ByteBuffer()
        for command in commands { RESPCommand.encode(command, into: &buffer) }
        try await channel.writeAndFlush(RedisRequest(bytes: buffer, reply: nil))
    }

    /// Pipelines many commands in one write and waits for every reply.
    public func pipeline(_ commands: [[String]], timeout: Duration = .seconds(30)) async throws -> [RESPValue] {
        let promises = commands.map { _ in channel.eventLoop.makePromise(of: RESPValue.self) }
        for (command, promise) in zip(commands, promises) {
            channel.write(RedisRequest(bytes: RESPCommand.encode(command), reply: promise), promise: nil)
        }
        channel.flush()
        let all = EventLoopFuture.whenAllSucceed(promises.map(\.futureResult), on: channel.eventLoop)
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout / .nanoseconds(1)))) {
            for promise in promises { promise.fail(ConnectionError.timedOut("pipelined replies")) }
        }
        defer { timer.cancel() }
        return try await all.get()
    }

    public func close() {
        channel.close(promise: nil)
    }

    public var isActive: Bool { channel.isActive }
}

/// When the connection last read a value.
final class LastRead: Sendable {
    private let value = Mutex(ContinuousClock.now)

    var instant: ContinuousClock.Instant { value.withLock { $0 } }

    func touch() {
        value.withLock { $0 = .now }
    }
}
