public import Hummingbird

/// The request context of every HTTP route: Hummingbird's core storage. WebSocket upgrades are
/// decided outside the router (`WebSocketController.shouldUpgrade`), so it carries nothing for them.
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}
