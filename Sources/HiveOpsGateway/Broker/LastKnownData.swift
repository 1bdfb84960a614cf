package import GeneratedMessages
import Synchronization

/// The last `data` of each `*_update` type and the topic it went to, for
/// `dashboard_initialized` snapshots and `request_data` answers.
package final class LastKnownData: Sendable {
    private let updates = Mutex<[String: (topic: Subscription, data: [String: JSONValue])]>([:])

    package init() {}

    package func record(type: String, topic: Subscription, data: [String: JSONValue]) {
        updates.withLock { $0[type] = (topic, data) }
    }

    package func data(for type: String) -> [String: JSONValue]? {
        updates.withLock { $0[type]?.data }
    }

    /// The last data of every update type sent to one of `topics`, keyed by update type.
    package func snapshot(for topics: Set<Subscription>) -> [String: [String: JSONValue]] {
        updates.withLock { updates in
            var snapshot: [String: [String: JSONValue]] = [:]
            for (type, entry) in updates where topics.contains(entry.topic) { snapshot[type] = entry.data }
            return snapshot
        }
    }
}
