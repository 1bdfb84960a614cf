import Testing

@testable import HiveOpsGateway

/// A frame goes straight to the socket only when nothing it must follow is still in the channel.
@Suite struct WriteRouteTests {
    @Test func oneFrameGoesStraightWhenTheChannelHoldsNothing() {
        #expect(WriteRoute(hasSocket: true).way(forFrames: 1) == .socket)
    }

    @Test func aBatchOrAChannelWithoutASocketGoesThroughTheChannel() {
        #expect(WriteRoute(hasSocket: true).way(forFrames: 3) == .channel)
        #expect(WriteRoute(hasSocket: false).way(forFrames: 1) == .channel)
    }

    @Test func framesWaitBehindEveryUnfinishedChannelWrite() {
        var route = WriteRoute(hasSocket: true)
        route.channelWriteStarted()
        route.channelWriteStarted()
        #expect(route.way(forFrames: 1) == .channel)
        route.channelWriteFinished()
        #expect(route.way(forFrames: 1) == .channel, "one write is still in the channel")
        route.channelWriteFinished()
        #expect(route.way(forFrames: 1) == .socket)
    }

    @Test func aClosedSocketSendsEverythingThroughTheChannel() {
        var route = WriteRoute(hasSocket: true)
        route.hasSocket = false
        #expect(route.way(forFrames: 1) == .channel)
    }
}
