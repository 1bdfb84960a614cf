package import GeneratedMessages

/// How requested topic names become subscriptions: known names are kept,
/// duplicates folded, unknown names reported once, sorted.
package enum SubscriptionRules {
    package struct Resolution: Equatable, Sendable {
        package var valid: Set<Subscription>
        /// Unknown names, sorted and unique.
        package var invalid: [String]
    }

    package static func resolve(_ names: [String]) -> Resolution {
        var valid: Set<Subscription> = []
        var invalid: Set<String> = []
        for name in names {
            let subscription = Subscription(rawValue: name)
            if case .unknown = subscription {
                invalid.insert(name)
            } else {
                valid.insert(subscription)
            }
        }
        return Resolution(valid: valid, invalid: invalid.sorted())
    }

    /// The names a `subscribe` or `unsubscribe` asks for, liberal in what it takes: the typed list
    /// when it decoded, else what was sent in its place (`sent`, kept by the decoder): an array's
    /// elements, a lone value as a list of one, each named as sent, so that a value that is not a
    /// known topic is answered `Invalid subscription(s): ...` like an unknown name. Absent or null: none.
    package static func requestedNames(_ typed: [Subscription]?, sent: JSONValue?) -> [String] {
        if let typed { return typed.map(\.rawValue) }
        switch sent {
        case nil, .null?: return []
        case .array(let elements)?: return elements.map(\.nameAsSent)
        case let value?: return [value.nameAsSent]
        }
    }

    /// Topics in wire order: sorted by name, as `connection_established` and `subscription_updated` list them.
    package static func sorted(_ subscriptions: Set<Subscription>) -> [Subscription] {
        subscriptions.sorted { $0.rawValue < $1.rawValue }
    }

    /// Splits a comma-separated query value, ignoring blanks.
    package static func names(fromQuery value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
