import Foundation
import NIOCore
import NIOPosix
import RedisClient
import TestSupport
import Testing

/// A real `redis-server`, started by the test on a free loopback port, not daemonized so the
/// test owns its pid (to SIGKILL it and start it again on the same port).
final class RedisServer: @unchecked Sendable {
    // @unchecked: `process` is replaced only by `start()`, which the owning test calls from its own
    // task; `port` never changes.
    let port: Int
    private var process: Process?

    /// Extra `redis-server` arguments (`--enable-debug-command yes` for `DEBUG SLEEP`).
    private let extraArguments: [String]

    init(extraArguments: [String] = []) async throws {
        port = try Self.freePort()
        self.extraArguments = extraArguments
        try await start()
    }

    var url: String { "redis://127.0.0.1:\(port)" }

    static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        return channel.localAddress!.port!
    }

    func start() async throws {
        guard let path = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first(where: FileManager.default.isExecutableFile) else {
            throw TestFailure("redis-server is not installed (apt-get install -y redis-server)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let connection = try? await RedisConnection.connect(to: RedisURL(host: "127.0.0.1", port: port)) {
                defer { connection.close() }
                if (try? await connection.command(["PING"])) == .simpleString("PONG") { return }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("redis-server did not start on port \(port)")
    }

    /// SIGKILL: no goodbye to the clients.
    func kill() {
        guard let process else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// A fresh connection for a test's own commands.
    func connect() async throws -> RedisConnection {
        try await RedisConnection.connect(to: RedisURL(host: "127.0.0.1", port: port))
    }

    func publish(_ channel: String, _ payload: String) async throws -> Int64 {
        let connection = try await connect()
        defer { connection.close() }
        guard case .integer(let receivers) = try await connection.command(["PUBLISH", channel, payload]) else {
            throw TestFailure("PUBLISH did not answer an integer")
        }
        return receivers
    }

    deinit {
        kill()
    }
}
