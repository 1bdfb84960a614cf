/// Where broadcasts go: straight to this node's subscribers, or through Redis
/// to the subscribers of every node.
package protocol EventBus: Sendable {
    /// Publishes an event and says what it reached.
    func publish(_ event: BroadcastEvent) async throws -> PublishReceipt

    /// The broker's components for `/health`: at least `broker`.
    func health() -> [String: ComponentHealth]
}

/// The single-node broker: no Redis, delivery in-process.
package struct InProcessEventBus: EventBus {
    let router: EventRouter

    package init(router: EventRouter) {
        self.router = router
    }

    package func publish(_ event: BroadcastEvent) async throws -> PublishReceipt {
        PublishReceipt(clientsReached: router.deliver(event), nodesReached: 1)
    }

    package func health() -> [String: ComponentHealth] {
        ["broker": ComponentHealth(status: .healthy, detail: "in-process broker (no Redis configured)")]
    }
}
