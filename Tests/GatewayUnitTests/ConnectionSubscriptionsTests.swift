import GeneratedMessages
import HiveOpsGateway
import Logging
import Prometheus
import Testing

/// A connection's topics and their rules, in one place: at connect, on subscribe and unsubscribe,
/// with the credential's roles; and the manager's index, the only other copy, following them.
@Suite struct ConnectionSubscriptionsTests {
    func connecting(_ names: [String]?, forbidden: Set<Subscription> = [], max: Int = 3) -> (ConnectionSubscriptions, [InboundProcessor.Reply]) {
        ConnectionSubscriptions.connecting(
            defaults: [.agents, .system, .alerts],
            requested: names.map { ($0, SubscriptionRules.resolve($0)) },
            forbidden: forbidden,
            maxSubscriptions: max
        )
    }

    @Test func atConnectTheQueryReplacesTheDefaultsLessTheForbiddenTopics() {
        let (defaults, none) = connecting(nil, forbidden: [.alerts])
        #expect(defaults.sorted == [.agents, .system])
        #expect(none.isEmpty)
        let (queried, errors) = connecting(["tasks", "weather", "tasks"])
        #expect(queried.topics == [.tasks])
        #expect(errors == [.error(message: "Invalid subscription(s): weather", code: .invalidSubscription)])
        let (empty, _) = connecting([])
        #expect(empty.topics == [.agents, .system, .alerts], "an empty query keeps the defaults")
        let (tooMany, tooManyErrors) = connecting(["tasks", "agents", "system", "alerts"])
        #expect(tooMany.topics == [.agents, .system, .alerts], "too many names: the defaults")
        #expect(tooManyErrors == [.error(message: "Too many subscriptions requested", code: .tooManySubscriptions)])
    }

    @Test func subscribeAddsPermittedKnownTopicsAndNamesTheRest() {
        var subscriptions = ConnectionSubscriptions(topics: [.agents], forbidden: [.alerts], maxSubscriptions: 3)
        let change = subscriptions.subscribe(["alerts", "zeta", "tasks"])
        #expect(
            change.errors == [
                .error(message: "Invalid subscription(s): zeta", code: .invalidSubscription),
                .error(message: "Forbidden subscription(s): alerts", code: .forbiddenSubscription),
            ]
        )
        #expect(change.invalid == ["zeta"])
        #expect(subscriptions.sorted == [.agents, .tasks])
        #expect(
            subscriptions.subscribe(["a", "b", "c", "d"]).errors == [.error(message: "Too many subscriptions requested", code: .tooManySubscriptions)]
        )
        #expect(subscriptions.sorted == [.agents, .tasks])
        subscriptions.unsubscribe(["agents", "nope"])
        #expect(subscriptions.sorted == [.tasks])
    }

    @Test func theManagersIndexFollowsEveryChange() {
        let manager = ConnectionManager(metrics: GatewayMetrics(registry: PrometheusCollectorRegistry()), logger: Logger(label: "test"))
        let connection = Connection.testing()
        #expect(manager.register(connection, topics: [.agents]) == nil)
        #expect(manager.subscriberCount(of: .agents) == 1)
        manager.updateSubscriptions(of: connection, to: [.tasks])
        #expect(manager.topics(of: connection) == [.tasks])
        #expect(manager.subscriberCount(of: .agents) == 0)
        #expect(manager.subscriberCount(of: .tasks) == 1)
        manager.unregister(connection)
        #expect(manager.topics(of: connection) == nil)
        #expect(manager.subscriberCount(of: .tasks) == 0)
    }
}
