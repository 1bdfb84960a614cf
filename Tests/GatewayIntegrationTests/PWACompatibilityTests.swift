import Foundation
import GatewayClient
import GeneratedMessages
import TestSupport
import Testing

/// Today's PWA against the real binary: every frame it sends, exactly as it sends it, gets the
/// reply today's server gives, and replies keep the shape the PWA reads.
@Suite struct PWACompatibilityTests {
    @Test func everyFrameThePWASendsGetsTodaysReplyAndTheConnectionStays() async throws {
        let gateway = try await GatewayProcess()
        let client = try await WebSocketClient.connect(port: gateway.port, path: "/api/dashboard/ws/dashboard")
        guard case .connectionEstablished = try await client.receiveMessage() else { throw TestFailure("greeting") }
        guard case .dashboardInitialized = try await client.receiveMessage() else { throw TestFailure("snapshot") }
        let frames = try PWAFrames.all()
        for (type, text) in frames {
            try await client.send(text: text)
            let reply = try JSONDecoder().decode(JSONValue.self, from: Data(try await client.receiveText().utf8))
            if type == "ping" {
                #expect(reply["type"] == "pong", "\(text)")
            } else {
                #expect(reply["type"] == "error", "\(text)")
                #expect(reply["message"] == .string("Unknown message type: \(type)"), "\(text)")
                #expect(reply["code"] == "unknown_message_type")
            }
        }
        // Still open and answering after all of them.
        try await client.send(text: frames[0].text)
        guard case .pong = try await client.receiveMessage() else { throw TestFailure("no pong after the PWA's frames") }
        try await client.close()
    }

    @Test func requestDataWithoutAStringDataTypeIsADataErrorWithAStringDataType() async throws {
        let gateway = try await GatewayProcess()
        let client = try await WebSocketClient.connect(port: gateway.port, path: "/api/dashboard/ws/agents")
        guard case .connectionEstablished = try await client.receiveMessage() else { throw TestFailure("greeting") }
        let cases = [
            (#"{"type":"request_data","correlation_id":"r-1"}"#, ""),
            (#"{"type":"request_data","data_type":null,"correlation_id":"r-2"}"#, ""),
            (#"{"type":"request_data","data_type":42,"correlation_id":"r-3"}"#, "42"),
            (#"{"type":"request_data","data_type":{"name":"agent_status"},"correlation_id":"r-4"}"#, #"{"name":"agent_status"}"#),
        ]
        for (body, name) in cases {
            try await client.send(text: body)
            let reply = try JSONDecoder().decode(JSONValue.self, from: Data(try await client.receiveText().utf8))
            #expect(reply["type"] == "data_error", "\(body)")
            #expect(reply["data_type"] == .string(name), "\(body)")
            #expect(reply["error"] == .string("Unknown data type: \(name)"), "\(body)")
        }
        try await client.close()
    }
}
