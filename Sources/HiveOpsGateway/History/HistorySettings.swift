/// How much of each topic's event history is kept, in memory on every node and, with Redis, in
/// Redis Streams for every node. Both bounds hold: the older events go first.
package struct HistorySettings: Sendable, Equatable {
    /// Events kept per topic; 0 turns the history off: nothing is kept, with Redis nothing is
    /// recorded (frames carry no position), and no recovery succeeds.
    package var size = 1_000
    /// Events older than this are dropped.
    package var maxAge: Duration = .seconds(600)

    package init() {}
}
