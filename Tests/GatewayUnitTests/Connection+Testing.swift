import HiveOpsGateway
import Logging

extension Connection {
    /// A connection with no socket behind it: `hooks` stand for the channel handler.
    static func testing(
        id: String = "c-1",
        endpoint: DashboardEndpoint = .dashboard,
        idle: Duration = .seconds(600),
        now: ContinuousClock.Instant = .now,
        hooks: SocketHooks = SocketHooks(eventLoop: nil, onLoop: { _ in }, forceClose: {}),
        holdUntilGreeting: Bool = false
    ) -> Connection {
        Connection(
            id: id,
            endpoint: endpoint,
            queue: OutboundQueue(maxBytes: 1 << 20, maxFrames: 10, failureThreshold: 5),
            idleTimeout: idle,
            now: now,
            logger: Logger(label: "test"),
            hooks: hooks,
            holdUntilGreeting: holdUntilGreeting
        )
    }
}
