import Foundation
import GatewayClient
import GeneratedMessages
import HiveOpsGateway
import NIOCore
import NIOWebSocket
import TestSupport
import Testing

@Suite struct AbuseWindowTests {
    @Test func aClientThatKeepsFloodingIsDisconnectedWith1008() async throws {
        let configuration = TestGateway.configuration {
            $0.rateLimit.tokensPerSecond = 20
            $0.rateLimit.burst = 5
            $0.rateLimit.cooldown = .milliseconds(200)
            $0.rateLimit.abuseWindow = .seconds(1)
        }
        try await TestGateway.with(configuration) { gateway in
            let (client, _) = try await gateway.connectAndGreet(.system)
            // Flood at about 10x the rate, in bounded rounds, until the gateway gives up on the client.
            var notice: DisconnectNotice?
            let deadline = ContinuousClock.now + .seconds(10)
            flooding: while ContinuousClock.now < deadline {
                try? await client.send(texts: Array(repeating: #"{"type":"ping"}"#, count: 20))
                try await Task.sleep(for: .milliseconds(100))
                while client.pendingFrames > 0 {
                    let frame = try await client.receive()
                    if case .text(let text) = frame,
                        case .disconnectNotice(let received) = try JSONDecoder().decode(ServerMessage.self, from: Data(text.utf8))
                    {
                        notice = received
                        break flooding
                    }
                }
            }
            #expect(notice?.reason == .rateLimitAbuse)
            #expect(notice?.reconnect?.allowed == false)
            guard case .close(let code, _) = try await client.receive() else { throw TestFailure("close frame") }
            #expect(code == 1008)
            #expect(try await gateway.metric("hiveops_ws_rate_limit_disconnects_total") == 1)
        }
    }
}
