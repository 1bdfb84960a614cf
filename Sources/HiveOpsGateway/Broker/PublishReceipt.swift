/// What a broadcast reached, as `POST /api/dashboard/websocket/broadcast` reports it: both
/// always integers, with or without Redis.
package struct PublishReceipt: Equatable, Sendable {
    /// This node's connections: those that took the frame when delivery is in-process, or those
    /// subscribed to the topic when the broadcast was accepted when it goes through Redis (the
    /// other nodes' clients are not known here).
    package var clientsReached: Int
    /// The gateways that received it: 1 in-process, or when Redis was away and this node
    /// delivered it alone; through Redis, PUBLISH's reply (the nodes whose listener is subscribed).
    package var nodesReached: Int

    package init(clientsReached: Int, nodesReached: Int) {
        self.clientsReached = clientsReached
        self.nodesReached = nodesReached
    }
}
