public import Hummingbird
public import HummingbirdWebSocket
public import NIOCore

/// The request context of every route: Hummingbird's core storage, the
/// WebSocket upgrade slot, and the channel, which the gateway needs to close a
/// socket outright when a peer stops reading.
public struct GatewayRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public let channel: any Channel
    /// Set when an upgrade is admitted; the WebSocket handler reads it (the route's context value is copied there).
    let upgradeGrant = SendableBox<AccessGrant?>(nil)

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.channel = source.channel
    }
}
