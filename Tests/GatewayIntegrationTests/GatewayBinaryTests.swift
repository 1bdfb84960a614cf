import Crypto
import Foundation
import GatewayClient
import GeneratedMessages
import NIOWebSocket
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real binary: configuration errors, the ready line, and a graceful shutdown on SIGTERM.
@Suite struct GatewayBinaryTests {
    @Test func sigtermSendsServerShutdownAndCloses1001ThenExitsZero() async throws {
        let gateway = try await GatewayProcess(arguments: ["--log-format", "json"])
        let client = try await WebSocketClient.connect(port: gateway.port, path: "/api/dashboard/ws/system")
        guard case .connectionEstablished = try await client.receiveMessage() else { throw TestFailure("greeting") }
        let started = ContinuousClock.now
        gateway.signal(SIGTERM)
        guard case .disconnectNotice(let notice) = try await client.receiveMessage() else { throw TestFailure("notice") }
        #expect(notice.reason == .serverShutdown)
        #expect(notice.reconnect?.allowed == true)
        #expect(try await client.receive() == .close(code: 1001, reason: "server_shutdown"))
        try? await client.close(code: .goingAway)
        let status = try await gateway.waitForExit(timeout: .seconds(10))
        #expect(status == 0)
        #expect(started.duration(to: .now) < .seconds(5))
        // JSON log lines, one object each.
        let lines = gateway.log.split(separator: "\n")
        #expect(lines.contains { $0.contains(#""message":"hiveops-gateway ready""#) })
        #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) is [String: Any] })
    }

    @Test(
        arguments: [
            (["--port", "70000"], [:], "--port (PORT)"),
            ([], ["PORT": "eighty"], "--port (PORT)"),
            (["--log-format", "xml"], [:], "--log-format (LOG_FORMAT)"),
            ([], ["WS_RATE_TOKENS_PER_SEC": "-1"], "--rate-limit-rps (WS_RATE_TOKENS_PER_SEC)"),
            (["--idle-timeout", "0"], [:], "--idle-timeout (WS_IDLE_TIMEOUT_SECONDS)"),
            ([], ["WS_AUTH_REQUIRED": "maybe"], "--auth-required (WS_AUTH_REQUIRED)"),
            (["--compression", "sometimes"], [:], "--compression (WS_COMPRESSION)"),
            ([], ["WS_COMPRESSION_THRESHOLD_BYTES": "-5"], "--compression-threshold (WS_COMPRESSION_THRESHOLD_BYTES)"),
            ([], ["WS_AUTH_MODE": "oauth"], "--auth-mode (WS_AUTH_MODE)"),
            (["--auth-required"], ["WS_AUTH_TOKEN": ""], "WS_AUTH_TOKEN is empty"),
            (["--auth-required", "--auth-mode", "jwt"], [:], "JWT mode needs a key"),
            ([], ["WS_AUTH_REQUIRED": "1", "WS_AUTH_MODE": "jwt", "WS_JWT_SECRET": "too-short"], "at least 32 bytes"),
            (["--jwt-public-key-file", "/nonexistent.pem"], [:], "--jwt-public-key-file (WS_JWT_PUBLIC_KEY_FILE)"),
            ([], ["WS_TOPIC_ROLES": "weather=admin"], "--topic-roles (WS_TOPIC_ROLES)"),
            ([], ["WS_ALLOWED_ORIGINS": "dashboard.example.com"], "WS_ALLOWED_ORIGINS"),
        ] as [([String], [String: String], String)]
    )
    func badSettingsAreRefusedNamingTheSetting(arguments: [String], environment: [String: String], setting: String) throws {
        let result = try GatewayProcess.runToCompletion(arguments, environment: environment)
        #expect(result.status != 0)
        #expect(result.stderr.contains(setting), "\(result.stderr)")
    }

    /// Tokens in the query (browsers) must not reach the log, even at trace level.
    @Test func tokensNeverReachTheLog() async throws {
        let secret = "shared-token-\(UUID().uuidString)"
        let gateway = try await GatewayProcess(environment: ["WS_AUTH_REQUIRED": "true", "WS_AUTH_TOKEN": secret, "LOG_LEVEL": "trace"])
        let accepted = try await WebSocketClient.connect(port: gateway.port, path: "/api/dashboard/ws/tasks?access_token=\(secret)")
        guard case .connectionEstablished = try await accepted.receiveMessage() else { throw TestFailure("greeting") }
        let wrong = "wrong-\(secret)"
        await #expect(throws: WebSocketClient.ClientError.self) {
            _ = try await WebSocketClient.connect(port: gateway.port, path: "/api/dashboard/ws/tasks?access_token=\(wrong)")
        }
        try await accepted.close()
        _ = try await accepted.receive()
        gateway.signal(SIGTERM)
        #expect(try await gateway.waitForExit(timeout: .seconds(10)) == 0)
        let log = gateway.log
        #expect(log.contains("WebSocket upgrade refused"))
        #expect(!log.contains(secret))
    }

    /// JWT mode from the command line: a P-256 public key read from a PEM file, ES256 tokens.
    @Test func anES256PublicKeyFileVerifiesTokens() async throws {
        let key = P256.Signing.PrivateKey()
        let pemURL = FileManager.default.temporaryDirectory.appending(path: "hiveops-es256-\(UUID().uuidString).pem")
        try key.publicKey.pemRepresentation.write(to: pemURL, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: pemURL) }
        let gateway = try await GatewayProcess(
            arguments: ["--auth-required", "--auth-mode", "jwt", "--jwt-public-key-file", pemURL.path, "--jwt-issuer", "https://idp.test"]
        )
        let good = try TestTokens.token(TestTokens.claims(extra: ["iss": "https://idp.test"]), signer: .es256(key))
        let client = try await WebSocketClient.connect(
            port: gateway.port,
            path: "/api/dashboard/ws/tasks",
            headers: [("Authorization", "Bearer \(good)")]
        )
        guard case .connectionEstablished = try await client.receiveMessage() else { throw TestFailure("greeting") }
        let otherKey = try TestTokens.token(TestTokens.claims(extra: ["iss": "https://idp.test"]), signer: .es256(P256.Signing.PrivateKey()))
        await #expect(throws: WebSocketClient.ClientError.self) {
            _ = try await WebSocketClient.connect(
                port: gateway.port,
                path: "/api/dashboard/ws/tasks",
                headers: [("Authorization", "Bearer \(otherKey)")]
            )
        }
        gateway.signal(SIGTERM)
        #expect(try await gateway.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func flagsWinOverTheEnvironment() async throws {
        let gateway = try await GatewayProcess(
            arguments: ["--rate-limit-burst", "9"],
            environment: ["WS_RATE_BURST": "3", "WS_IDLE_TIMEOUT_SECONDS": "42"]
        )
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(gateway.port)/api/dashboard/websocket/limits")!)
        let limits = try JSONDecoder().decode(JSONValue.self, from: data)
        #expect(limits["rate_limit_burst_capacity"] == 9)
        #expect(limits["idle_disconnect_seconds"] == 42)
        gateway.signal(SIGTERM)
        #expect(try await gateway.waitForExit(timeout: .seconds(10)) == 0)
    }

    /// permessage-deflate is on by default and answers a browser's offer; `--compression off` (or
    /// WS_COMPRESSION=off) declines every offer, and the limits endpoint says which.
    @Test(
        arguments: [(["--compression-threshold", "512"], [:], true), ([], ["WS_COMPRESSION": "off"], false)] as [([String], [String: String], Bool)]
    )
    func compressionIsNegotiatedUnlessTurnedOff(arguments: [String], environment: [String: String], enabled: Bool) async throws {
        let gateway = try await GatewayProcess(arguments: arguments, environment: environment)
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(gateway.port)/api/dashboard/websocket/limits")!)
        let limits = try JSONDecoder().decode(JSONValue.self, from: data)
        #expect(limits["permessage_deflate_enabled"] == .bool(enabled))
        #expect(limits["compression_threshold_bytes"] == (enabled ? 512 : 256))
        let connection = try await RawConnection.connect(port: gateway.port)
        let answer = try await connection.upgrade(
            path: "/api/dashboard/ws/agents",
            headers: [("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]
        )
        #expect(answer?.status == 101)
        let extensions = answer?.head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("sec-websocket-extensions:") }
        if enabled {
            #expect(
                extensions?.lowercased() == "sec-websocket-extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover"
            )
        } else {
            #expect(extensions == nil)
        }
        connection.close()
        gateway.signal(SIGTERM)
        #expect(try await gateway.waitForExit(timeout: .seconds(10)) == 0)
    }
}
