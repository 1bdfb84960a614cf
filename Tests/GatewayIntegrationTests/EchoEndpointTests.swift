import Foundation
import GatewayClient
import GeneratedMessages
import HiveOpsGateway
import NIOCore
import NIOWebSocket
import Testing

@Suite struct EchoEndpointTests {
    @Test func offByDefault() async throws {
        _ = try await TestGateway.with { gateway in
            await #expect(throws: WebSocketClient.ClientError.self) {
                _ = try await WebSocketClient.connect(port: gateway.port, path: "/")
            }
        }
    }

    @Test func echoesWithTheFlag() async throws {
        try await TestGateway.with(TestGateway.configuration { $0.echoEndpoint = true }) { gateway in
            let client = try await WebSocketClient.connect(port: gateway.port, path: "/")
            try await client.send(text: "héllo")
            #expect(try await client.receive() == .text("héllo"))
            try await client.send(frame: WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: [1, 2, 3])))
            #expect(try await client.receive() == .binary(ByteBuffer(bytes: [1, 2, 3])))
        }
    }
}
