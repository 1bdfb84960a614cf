package import Hummingbird

/// The request context of every HTTP route: Hummingbird's core storage. WebSocket upgrades are
/// decided outside the router (`WebSocketController.shouldUpgrade`), so it carries nothing for them.
package struct GatewayRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}
