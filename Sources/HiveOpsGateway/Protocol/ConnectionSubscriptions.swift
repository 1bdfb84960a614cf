package import GeneratedMessages

/// A connection's topics and every rule that changes them: the endpoint's defaults or the
/// `?subscriptions=` query at connect, `subscribe` and `unsubscribe` later, the credential's
/// roles throughout. The one owner of a connection's topics (its inbound processor holds it);
/// the connection manager's index is the only other copy, updated after each change.
package struct ConnectionSubscriptions: Sendable, Equatable {
    package private(set) var topics: Set<Subscription>
    /// Topics the connection's credential does not allow.
    package let forbidden: Set<Subscription>
    package let maxSubscriptions: Int

    package init(topics: Set<Subscription>, forbidden: Set<Subscription> = [], maxSubscriptions: Int) {
        self.topics = topics.subtracting(forbidden)
        self.forbidden = forbidden
        self.maxSubscriptions = maxSubscriptions
    }

    /// The topics in wire order, as `connection_established` and `subscription_updated` list them.
    package var sorted: [Subscription] { SubscriptionRules.sorted(topics) }

    /// At connect: the names the query asked for (resolved once, at admission), else the endpoint's
    /// defaults, less the forbidden topics. Returns the errors to send after the greeting.
    package static func connecting(
        defaults: Set<Subscription>,
        requested: (names: [String], resolution: SubscriptionRules.Resolution)?,
        forbidden: Set<Subscription>,
        maxSubscriptions: Int
    ) -> (Self, errors: [InboundProcessor.Reply]) {
        var subscriptions = Self(topics: defaults, forbidden: forbidden, maxSubscriptions: maxSubscriptions)
        guard let (names, resolution) = requested, !names.isEmpty else { return (subscriptions, []) }
        guard names.count <= maxSubscriptions else {
            return (subscriptions, [.error(message: ErrorText.tooManySubscriptions, code: .tooManySubscriptions)])
        }
        subscriptions.topics = resolution.valid.subtracting(forbidden)
        let errors: [InboundProcessor.Reply] =
            resolution.invalid.isEmpty
            ? [] : [.error(message: ErrorText.invalidSubscriptions(resolution.invalid), code: .invalidSubscription)]
        return (subscriptions, errors)
    }

    /// The errors a `subscribe` gets, in order.
    package struct Change: Equatable, Sendable {
        package var errors: [InboundProcessor.Reply] = []
        /// Unknown names, for a (rate-limited) log line.
        package var invalid: [String] = []
    }

    /// Adds known, permitted topics; unknown names and forbidden topics are errors, and more than
    /// `maxSubscriptions` names change nothing.
    package mutating func subscribe(_ names: [String]) -> Change {
        guard names.count <= maxSubscriptions else {
            return Change(errors: [.error(message: ErrorText.tooManySubscriptions, code: .tooManySubscriptions)])
        }
        let resolution = SubscriptionRules.resolve(names)
        var change = Change(invalid: resolution.invalid)
        if !resolution.invalid.isEmpty {
            change.errors.append(.error(message: ErrorText.invalidSubscriptions(resolution.invalid), code: .invalidSubscription))
        }
        // Checked on every subscribe, not only at connect.
        let denied = resolution.valid.intersection(forbidden)
        if !denied.isEmpty {
            change.errors.append(
                .error(message: ErrorText.forbiddenSubscriptions(SubscriptionRules.sorted(denied).map(\.rawValue)), code: .forbiddenSubscription)
            )
        }
        topics.formUnion(resolution.valid.subtracting(forbidden))
        return change
    }

    /// Removes known topics; unknown names are ignored.
    package mutating func unsubscribe(_ names: [String]) {
        topics.subtract(SubscriptionRules.resolve(names).valid)
    }
}
