import Foundation
package import GeneratedMessages

/// What a client asks to recover: each topic's events after its offset, in one epoch. From the
/// query on connect (`?epoch=E&offsets=agents:12,alerts:7`) or from a `subscribe`'s `recover`.
package struct RecoveryPlan: Sendable, Equatable {
    package var epoch: String
    package var offsets: [Subscription: Int]

    package init(epoch: String, offsets: [Subscription: Int]) {
        self.epoch = epoch
        self.offsets = offsets
    }

    /// Reads the query's `epoch` and `offsets`, liberally (spaces, empty entries, either parameter
    /// alone); returns the plan (nil when nothing asks to recover) and the entries it could not read,
    /// for an error frame. Offsets without an epoch recover nothing: they give `epoch_changed`.
    package static func fromQuery(epoch: String?, offsets: String?) -> (plan: Self?, invalid: [String]) {
        guard let offsets else { return (nil, []) }
        var parsed: [Subscription: Int] = [:]
        var invalid: [String] = []
        for entry in SubscriptionRules.names(fromQuery: offsets) {
            let parts = entry.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, let (topic, offset) = Self.entry(topic: parts[0], offset: Int(parts[1])) {
                parsed[topic] = offset
            } else {
                invalid.append(entry)
            }
        }
        guard !parsed.isEmpty else { return (nil, invalid) }
        return (Self(epoch: epoch ?? "", offsets: parsed), invalid)
    }

    /// A `subscribe`'s `recover`; returns the plan and the entries it could not use.
    package static func from(_ request: RecoveryRequest) -> (plan: Self?, invalid: [String]) {
        var parsed: [Subscription: Int] = [:]
        var invalid: [String] = []
        for (name, offset) in request.offsets.sorted(by: { $0.key < $1.key }) {
            if let (topic, offset) = Self.entry(topic: name, offset: offset) {
                parsed[topic] = offset
            } else {
                invalid.append("\(name):\(offset)")
            }
        }
        return (parsed.isEmpty ? nil : Self(epoch: request.epoch, offsets: parsed), invalid)
    }

    /// The part of the plan for `topics`.
    package func restricted(to topics: Set<Subscription>) -> Self {
        Self(epoch: epoch, offsets: offsets.filter { topics.contains($0.key) })
    }

    private static func entry(topic name: String, offset: Int?) -> (Subscription, Int)? {
        let topic = Subscription(rawValue: name)
        guard case .unknown = topic else {
            guard let offset, offset >= 0 else { return nil }
            return (topic, offset)
        }
        return nil
    }
}
