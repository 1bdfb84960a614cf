/// How much of each topic's event history is kept, in memory on every node and, with Redis, in
/// Redis Streams for every node. Both bounds hold: the older events go first.
package struct HistorySettings: Sendable, Equatable {
    /// Events kept per topic; 0 keeps none, so that no recovery can succeed.
    package var size = 1_000
    /// Events older than this are dropped.
    package var maxAge: Duration = .seconds(600)

    package init() {}
}
