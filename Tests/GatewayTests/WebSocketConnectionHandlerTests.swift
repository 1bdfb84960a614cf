import Foundation
import GatewayClient
import GeneratedMessages
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket
import Testing

@testable import HiveOpsGateway

/// The connection's channel handler in an `EmbeddedChannel`: it performs what the state machine
/// and the session decide (greeting, replies, the close handshake, writability), frame by frame,
/// with no socket and no second thread.
@Suite struct WebSocketConnectionHandlerTests {
    let logger = Logger(label: "test")

    /// A channel as the upgrade leaves it: NIO's frame encoder, then the connection's handler.
    func openChannel(_ endpoint: DashboardEndpoint = .agents) throws -> (EmbeddedChannel, GatewayServices) {
        let services = try buildApplication(configuration: GatewayConfiguration(port: 0), logger: logger).services
        let channel = EmbeddedChannel()
        // Active, as an accepted socket is: a close then makes it inactive.
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(WebSocketFrameEncoder())
        let admission = WebSocketController.Admission(endpoint: endpoint, grant: .unrestricted)
        let request = UpgradeRequest(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/api/dashboard/ws/\(endpoint.rawValue)"))
        try channel.pipeline.syncOperations.addHandler(
            WebSocketConnectionHandler(role: .dashboard(admission, request), services: services, logger: logger)
        )
        return (channel, services)
    }

    /// Runs the loop, then takes every frame written so far.
    func written(_ channel: EmbeddedChannel) throws -> [RawConnection.Frame] {
        channel.embeddedEventLoop.run()
        var bytes = ByteBuffer()
        while let output = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(var buffer) = output else { throw TestFailure("a file region was written") }
            bytes.writeBuffer(&buffer)
        }
        var frames: [RawConnection.Frame] = []
        while let frame = RawConnection.parseFrame(&bytes) { frames.append(frame) }
        #expect(bytes.readableBytes == 0, "a partial frame was written")
        return frames
    }

    /// The `type` of each text frame, or `close <code>` for a close frame.
    func kinds(_ frames: [RawConnection.Frame]) throws -> [String] {
        try frames.map { frame in
            switch frame.opcode {
            case 0x1:
                try JSONDecoder().decode(JSONValue.self, from: Data(frame.payload))["type"]?.stringValue ?? "?"
            case 0x8:
                "close \(Int(frame.payload[0]) << 8 | Int(frame.payload[1]))"
            default:
                "opcode \(frame.opcode)"
            }
        }
    }

    /// A masked client frame, as NIO's decoder hands it over.
    func clientFrame(_ opcode: WebSocketOpcode, _ text: String, masked: Bool = true) -> WebSocketFrame {
        clientFrame(opcode, bytes: Array(text.utf8), masked: masked)
    }

    func clientFrame(_ opcode: WebSocketOpcode, bytes: [UInt8], masked: Bool = true) -> WebSocketFrame {
        var data = ByteBuffer(bytes: bytes)
        guard masked else { return WebSocketFrame(fin: true, opcode: opcode, data: data) }
        let key: WebSocketMaskingKey = [7, 1, 9, 4]
        data.webSocketMask(key)
        return WebSocketFrame(fin: true, opcode: opcode, maskKey: key, data: data)
    }

    func closeFrame(_ code: UInt16) -> WebSocketFrame {
        clientFrame(.connectionClose, bytes: [UInt8(code >> 8), UInt8(code & 0xFF)])
    }

    @Test func itGreetsThenAnswersEachMessageInOrder() throws {
        let (channel, _) = try openChannel()
        #expect(try kinds(written(channel)) == ["connection_established"])
        try channel.writeInbound(clientFrame(.text, #"{"type":"ping","timestamp":"2026-12-02T04:29:04.367Z","client_time":1796185744367}"#))
        try channel.writeInbound(clientFrame(.text, #"{"type":"client-backgrounded","data":{}}"#))
        #expect(try kinds(written(channel)) == ["pong", "error"])
        _ = try? channel.finish()
    }

    @Test func thePeersCloseIsAnsweredAndTheSocketCloses() throws {
        let (channel, services) = try openChannel()
        _ = try written(channel)
        try channel.writeInbound(closeFrame(1001))
        #expect(try kinds(written(channel)) == ["close 1000"], "a valid close is answered with 1000")
        #expect(!channel.isActive)
        #expect(services.manager.count == 0, "the connection left the manager")

        let (refused, _) = try openChannel()
        _ = try written(refused)
        try refused.writeInbound(closeFrame(1005))
        #expect(try kinds(written(refused)) == ["close 1002"], "1005 may not be sent on the wire")
        #expect(!refused.isActive)
    }

    @Test func anUnmaskedFrameIsRefusedWith1002AndNothingElseGoesOut() throws {
        let (channel, _) = try openChannel()
        _ = try written(channel)
        try channel.writeInbound(clientFrame(.text, #"{"type":"ping"}"#, masked: false))
        #expect(try kinds(written(channel)) == ["close 1002"])
        #expect(!channel.isActive)
    }

    @Test func shutdownSendsTheNoticeThenCloses1001AndWaitsForThePeer() throws {
        let (channel, _) = try openChannel()
        _ = try written(channel)
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(try kinds(written(channel)) == ["disconnect_notice", "close 1001"])
        #expect(channel.isActive, "the peer's answer is awaited (the sweep's grace bounds it)")
        // After our close frame only the peer's close matters: a message gets no reply.
        try channel.writeInbound(clientFrame(.text, #"{"type":"ping"}"#))
        #expect(try written(channel).isEmpty)
        try channel.writeInbound(closeFrame(1001))
        #expect(!channel.isActive)
    }

    @Test func framesWaitWhileTheSocketIsUnwritableAndGoOutWhenItIsAgain() throws {
        let (channel, services) = try openChannel()
        _ = try written(channel)
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        let event = try BroadcastEvent(type: "agent_update", subscription: "agents", data: ["n": 1], correlationId: "e-1")
        #expect(services.router.deliver(event) == 1)
        #expect(try written(channel).isEmpty, "nothing is written to an unwritable socket")
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(try kinds(written(channel)) == ["agent_update"])
        _ = try? channel.finish()
    }
}
