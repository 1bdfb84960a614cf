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

/// The connection's channel handler in an `EmbeddedChannel`: it performs what the state machine
/// and the session decide (greeting, replies, the close handshake, writability), frame by frame,
/// with no socket and no second thread.
@Suite struct WebSocketConnectionHandlerTests {
    let logger = Logger(label: "test")

    func openChannel() throws -> (EmbeddedConnection, SessionHarness) {
        let harness = SessionHarness(logger: logger)
        return (try EmbeddedConnection(harness: harness, logger: logger), harness)
    }

    @Test func itGreetsThenAnswersEachMessageInOrder() throws {
        let (channel, _) = try openChannel()
        #expect(try channel.writtenKinds() == ["connection_established"])
        try channel.send(#"{"type":"ping","timestamp":"2026-12-02T04:29:04.367Z","client_time":1796185744367}"#)
        try channel.send(#"{"type":"client-backgrounded","data":{}}"#)
        #expect(try channel.writtenKinds() == ["pong", "error"])
        _ = try? channel.channel.finish()
    }

    @Test func thePeersCloseIsAnsweredAndTheSocketCloses() throws {
        let (channel, harness) = try openChannel()
        _ = try channel.written()
        try channel.channel.writeInbound(EmbeddedConnection.closeFrame(1001))
        #expect(try channel.writtenKinds() == ["close 1000"], "a valid close is answered with 1000")
        #expect(!channel.channel.isActive)
        #expect(harness.manager.count == 0, "the connection left the manager")

        let (refused, _) = try openChannel()
        _ = try refused.written()
        try refused.channel.writeInbound(EmbeddedConnection.closeFrame(1005))
        #expect(try refused.writtenKinds() == ["close 1002"], "1005 may not be sent on the wire")
        #expect(!refused.channel.isActive)
    }

    @Test func anUnmaskedFrameIsRefusedWith1002AndNothingElseGoesOut() throws {
        let (channel, _) = try openChannel()
        _ = try channel.written()
        try channel.channel.writeInbound(EmbeddedConnection.clientFrame(.text, bytes: Array(#"{"type":"ping"}"#.utf8), masked: false))
        #expect(try channel.writtenKinds() == ["close 1002"])
        #expect(!channel.channel.isActive)
    }

    @Test func shutdownSendsTheNoticeThenCloses1001AndWaitsForThePeer() throws {
        let (channel, _) = try openChannel()
        _ = try channel.written()
        channel.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(try channel.writtenKinds() == ["disconnect_notice", "close 1001"])
        #expect(channel.channel.isActive, "the peer's answer is awaited (the sweep's grace bounds it)")
        // After our close frame only the peer's close matters: a message gets no reply.
        try channel.send(#"{"type":"ping"}"#)
        #expect(try channel.written().isEmpty)
        try channel.channel.writeInbound(EmbeddedConnection.closeFrame(1001))
        #expect(!channel.channel.isActive)
    }

    @Test func framesWaitWhileTheSocketIsUnwritableAndGoOutWhenItIsAgain() throws {
        let (channel, harness) = try openChannel()
        _ = try channel.written()
        channel.channel.isWritable = false
        channel.channel.pipeline.fireChannelWritabilityChanged()
        let event = try BroadcastEvent(type: "agent_update", subscription: "agents", data: ["n": 1], correlationId: "e-1")
        #expect(harness.router.deliver(event) == 1)
        #expect(try channel.written().isEmpty, "nothing is written to an unwritable socket")
        channel.channel.isWritable = true
        channel.channel.pipeline.fireChannelWritabilityChanged()
        #expect(try channel.writtenKinds() == ["agent_update"])
        _ = try? channel.channel.finish()
    }
}
