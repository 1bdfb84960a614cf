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
            } catch WebSocketClient.ClientError.upgradeRefused(let status, let body) {
                #expect(status == 503)
                #expect(body.contains("too_many_connections"))
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
