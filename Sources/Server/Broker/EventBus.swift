/// Where broadcasts go: straight to this node's subscribers, or through Redis
/// to the subscribers of every node.
public protocol EventBus: Sendable {
    /// Publishes an event. Returns this node's recipients when delivery is
    /// immediate, nil when it happens asynchronously (through Redis).
    func publish(_ event: BroadcastEvent) async throws -> Int?

    /// The broker's components for `/health`: at least `broker`.
    func health() -> [String: ComponentHealth]
}

/// The single-node broker: no Redis, delivery in-process.
public struct InProcessEventBus: EventBus {
    let router: EventRouter

    public init(router: EventRouter) {
        self.router = router
    }

    public func publish(_ event: BroadcastEvent) async throws -> Int? {
        router.deliver(event)
    }

    public func health() -> [String: ComponentHealth] {
        ["broker": ComponentHealth(status: .healthy, detail: "in-process broker (no Redis configured)")]
    }
}
