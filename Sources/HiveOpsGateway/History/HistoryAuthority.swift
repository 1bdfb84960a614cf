package import GeneratedMessages

/// The history every node shares (Redis Streams): where a node recovers what its own log does
/// not hold, because it started after the events or its client comes from another node.
package protocol HistoryAuthority: Sendable {
    /// Each topic's events after its offset in `epoch`, answered for every topic asked.
    func recover(_ offsets: [Subscription: Int], epoch: String) async -> [Subscription: AuthorityRecovery]
    /// Events and bytes kept per topic; nil when it cannot be read now.
    func usage() async -> [Subscription: (events: Int, bytes: Int)]?
}

/// What the shared history says of one topic.
package enum AuthorityRecovery: Sendable, Equatable {
    /// Every event after the offset, in order, through the topic's last one at `through`.
    case entries([HistoryEntry], through: StreamPosition)
    /// `current`: where the topic stands, when known.
    case failed(RecoveryFailure, current: StreamPosition?)
}
