import Testing

@testable import HiveOpsGateway

/// A frame goes straight to the socket only when nothing it must follow is still in the channel.
@Suite struct WriteRouteTests {
    static let socket = DirectSocketWriter(descriptor: 42)

    @Test func oneFrameGoesStraightWhenTheChannelHoldsNothing() {
        #expect(WriteRoute(socket: Self.socket).socket(forFrames: 1)?.descriptor == 42)
    }

    @Test func aBatchOrAChannelWithoutASocketGoesThroughTheChannel() {
        #expect(WriteRoute(socket: Self.socket).socket(forFrames: 3) == nil)
        #expect(WriteRoute().socket(forFrames: 1) == nil)
    }

    @Test func framesWaitBehindEveryUnfinishedChannelWrite() {
        var route = WriteRoute(socket: Self.socket)
        route.channelWriteStarted()
        route.channelWriteStarted()
        #expect(route.socket(forFrames: 1) == nil)
        route.channelWriteFinished()
        #expect(route.socket(forFrames: 1) == nil, "one write is still in the channel")
        route.channelWriteFinished()
        #expect(route.socket(forFrames: 1) != nil)
    }

    @Test func aClosedSocketSendsEverythingThroughTheChannel() {
        var route = WriteRoute(socket: Self.socket)
        route.socket = nil
        #expect(route.socket(forFrames: 1) == nil)
    }
}
