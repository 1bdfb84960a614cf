import Foundation
import GatewayClient
import GeneratedMessages
import NIOWebSocket
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
        ] as [([String], [String: String], String)]
    )
    func badSettingsAreRefusedNamingTheSetting(arguments: [String], environment: [String: String], setting: String) throws {
        let result = try GatewayProcess.runToCompletion(arguments, environment: environment)
        #expect(result.status != 0)
        #expect(result.stderr.contains(setting), "\(result.stderr)")
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
}

/// Descriptors run out before memory does: the gateway refuses connections past its cap before the
/// upgrade and keeps a reserve, instead of letting the process run out (libdispatch aborts it then).
@Suite struct ConnectionCapTests {
    @Test func connectionsPastTheCapAreRefusedAndTheGatewaySurvives() async throws {
        let gateway = try await GatewayProcess(openFileLimit: 300)
        var clients: [WebSocketClient] = []
        var refused = 0
        for _ in 0..<120 {
            do {
                let client = try await WebSocketClient.connect(port: gateway.port, path: "/api/dashboard/ws/system")
                _ = try await client.receiveMessage()
                clients.append(client)
            } catch WebSocketClient.ClientError.upgradeRefused(let status, _) {
                // hummingbird-websocket answers every refused upgrade with a bare 400 (README, known limitations).
                #expect(status == 400)
                refused += 1
            }
        }
        // The cap is the limit less 256: 44 connections.
        #expect(clients.count == 44)
        #expect(refused == 120 - 44)
        for client in clients.prefix(10) { await client.abort() }
        try await Task.sleep(for: .milliseconds(300))
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(gateway.port)/health")!)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data)["status"] == "healthy")
        let again = try await WebSocketClient.connect(port: gateway.port, path: "/api/dashboard/ws/system")
        guard case .connectionEstablished = try await again.receiveMessage() else { throw TestFailure("a freed slot is usable") }
        gateway.signal(SIGTERM)
        #expect(try await gateway.waitForExit(timeout: .seconds(10)) == 0)
    }
}
