import Foundation
import GatewayClient
import GeneratedMessages
import HiveOpsGateway
import NIOCore
import NIOWebSocket
import Testing

@Suite struct InProcessConnectionCapTests {
    @Test func theCapRefusesBeforeTheUpgradeAndCounts() async throws {
        try await TestGateway.with(TestGateway.configuration { $0.limits.maxConnections = 2 }) { gateway in
            let first = try await gateway.connectAndGreet(.system).0
            _ = try await gateway.connectAndGreet(.system)
            let body = #"{"detail":"Too many connections (at most 2)","error":"too_many_connections"}"#
            await #expect(throws: WebSocketClient.ClientError.upgradeRefused(status: 503, body: body)) { _ = try await gateway.connect(.system) }
            #expect(try await gateway.metric("hiveops_ws_connections_refused_total") == 1)
            #expect(try await gateway.request("GET", "/api/dashboard/websocket/limits").json()["max_connections"] == 2)
            await first.abort()
            try await Task.sleep(for: .milliseconds(200))
            _ = try await gateway.connectAndGreet(.system)
        }
    }
}
