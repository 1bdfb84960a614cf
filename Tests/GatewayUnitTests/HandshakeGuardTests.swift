import NIOCore
import NIOEmbedded
import NIOHTTP1
import TestSupport
import Testing

@testable import HiveOpsGateway

/// The handshake guard on an embedded channel, whose clock the test advances.
@Suite struct HandshakeGuardTests {
    /// Records the events the guard passes on, as the upgrade handler behind it would see them.
    final class Recorder: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        var inputClosed = false
        var parts = 0

        func channelRead(context: ChannelHandlerContext, data: NIOAny) { parts += 1 }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? ChannelEvent, event == .inputClosed { inputClosed = true }
        }
    }

    static func channel() throws -> (EmbeddedChannel, Recorder) {
        let channel = EmbeddedChannel()
        let recorder = Recorder()
        try channel.pipeline.syncOperations.addHandler(HandshakeGuard(timeout: .seconds(10)))
        try channel.pipeline.syncOperations.addHandler(recorder)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, recorder)
    }

    @Test func aSilentConnectionIsClosedAtTheTimeout() throws {
        let (channel, recorder) = try Self.channel()
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
        #expect(recorder.inputClosed)
    }

    @Test func aCompleteRequestRemovesTheGuard() throws {
        let (channel, recorder) = try Self.channel()
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/health")))
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(recorder.parts == 2)
        #expect(throws: (any Error).self) { try channel.pipeline.syncOperations.handler(type: HandshakeGuard.self) }
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test(arguments: [(HTTPParserError.headerOverflow, 431), (.invalidMethod, 400)])
    func aRejectedRequestGetsItsStatusAndTheConnectionCloses(_ error: HTTPParserError, _ status: Int) throws {
        let (channel, recorder) = try Self.channel()
        channel.pipeline.fireErrorCaught(error)
        guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            throw TestFailure("no response head")
        }
        #expect(Int(head.status.code) == status)
        #expect(head.headers["connection"] == ["close"])
        guard case .body(.byteBuffer(let body)) = try channel.readOutbound(as: HTTPServerResponsePart.self) else { throw TestFailure("no body") }
        #expect(String(buffer: body).contains("\"error\":\"bad_request\""))
        #expect(!channel.isActive)
        #expect(recorder.inputClosed)
    }

    @Test func unsoundUpgradeRequestsAreNamed() {
        func head(_ headers: [(String, String)]) -> HTTPRequestHead {
            HTTPRequestHead(version: .http1_1, method: .GET, uri: "/api/dashboard/ws/agents", headers: HTTPHeaders(headers))
        }
        let sound = [
            ("Upgrade", "websocket"), ("Connection", "keep-alive, Upgrade"), ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]
        #expect(HandshakeGuard.invalidUpgrade(head(sound)) == nil)
        #expect(HandshakeGuard.invalidUpgrade(head([("Host", "x")])) == nil)
        var post = head(sound)
        post.method = .POST
        #expect(HandshakeGuard.invalidUpgrade(post)?.0 == .badRequest)
        #expect(HandshakeGuard.invalidUpgrade(head(sound.filter { $0.0 != "Connection" }))?.0 == .badRequest)
        #expect(HandshakeGuard.invalidUpgrade(head(sound.filter { $0.0 != "Sec-WebSocket-Key" }))?.0 == .badRequest)
        #expect(HandshakeGuard.invalidUpgrade(head(sound.map { $0.0 == "Sec-WebSocket-Key" ? ($0.0, "c2hvcnQ=") : $0 }))?.0 == .badRequest)
        #expect(HandshakeGuard.invalidUpgrade(head(sound.map { $0.0 == "Sec-WebSocket-Version" ? ($0.0, "8") : $0 }))?.0 == .upgradeRequired)
    }
}
