import Foundation
import GatewayClient
import GeneratedMessages
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket
import TestSupport
import Testing

@testable import HiveOpsGateway

/// A dashboard connection in an `EmbeddedChannel`, as the upgrade leaves it (NIO's frame encoder,
/// then the connection's handler and its session): frames in, frames out, no socket, one thread.
struct EmbeddedConnection {
    let channel: EmbeddedChannel

    init(
        _ endpoint: DashboardEndpoint = .agents,
        query: String = "",
        subscriptions: String? = nil,
        grant: AccessGrant = .unrestricted,
        deflate: PerMessageDeflate? = nil,
        harness: SessionHarness,
        logger: Logger = Logger(label: "test")
    ) throws {
        channel = EmbeddedChannel()
        // Active, as an accepted socket is: a close then makes it inactive.
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(WebSocketFrameEncoder())
        let parameters = [query, subscriptions.map { "subscriptions=" + $0 } ?? ""].filter { !$0.isEmpty }
        let uri = endpoint.path + (parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&"))
        let request = UpgradeRequest(HTTPRequestHead(version: .http1_1, method: .GET, uri: uri))
        var admission = WebSocketController.Admission(endpoint: endpoint, grant: grant)
        if endpoint.isDashboard, let subscriptions {
            let names = SubscriptionRules.names(fromQuery: subscriptions)
            admission.requested = (names, SubscriptionRules.resolve(names))
        }
        try channel.pipeline.syncOperations.addHandler(
            WebSocketConnectionHandler(role: .dashboard(admission, request), deflate: deflate, dependencies: harness.dependencies, logger: logger)
        )
    }

    /// Runs the loop, then takes every frame written so far.
    func written() throws -> [RawConnection.Frame] {
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

    /// The `type` of each text frame written so far, or `close <code>` for a close frame.
    func writtenKinds() throws -> [String] {
        try written().map { frame in
            switch frame.opcode {
            case 0x1: try JSONDecoder().decode(JSONValue.self, from: Data(frame.payload))["type"]?.stringValue ?? "?"
            case 0x8: "close \(Int(frame.payload[0]) << 8 | Int(frame.payload[1]))"
            default: "opcode \(frame.opcode)"
            }
        }
    }

    /// The text frames written so far, as the server's messages.
    func writtenMessages() throws -> [ServerMessage] {
        try written().filter { $0.opcode == 0x1 }.map { try JSONDecoder().decode(ServerMessage.self, from: Data($0.payload)) }
    }

    /// Sends the peer's close frame.
    func close(_ code: UInt16) throws {
        try channel.writeInbound(Self.closeFrame(code))
    }

    /// Ends the test: the channel closes, as the socket would.
    func finish() {
        _ = try? channel.finish()
    }

    /// Sends one masked text frame, as a browser does.
    func send(_ text: String) throws {
        try channel.writeInbound(Self.clientFrame(.text, bytes: Array(text.utf8)))
    }

    /// A client frame, as NIO's decoder hands it over.
    static func clientFrame(_ opcode: WebSocketOpcode, bytes: [UInt8], masked: Bool = true) -> WebSocketFrame {
        var data = ByteBuffer(bytes: bytes)
        guard masked else { return WebSocketFrame(fin: true, opcode: opcode, data: data) }
        let key: WebSocketMaskingKey = [7, 1, 9, 4]
        data.webSocketMask(key)
        return WebSocketFrame(fin: true, opcode: opcode, maskKey: key, data: data)
    }

    static func closeFrame(_ code: UInt16) -> WebSocketFrame {
        clientFrame(.connectionClose, bytes: [UInt8(code >> 8), UInt8(code & 0xFF)])
    }
}
