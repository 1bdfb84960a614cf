import Foundation
import GeneratedMessages
import HummingbirdCore
import Logging
import NIOCore
import NIOWebSocket
import Prometheus

/// One dashboard connection's protocol: the greeting, the inbound rules applied to each message,
/// and the record of its end. It lives on the connection's event loop, driven by its channel
/// handler; no task runs per connection.
final class ConnectionSession {
    let dependencies: Dependencies
    let endpoint: DashboardEndpoint
    let grant: AccessGrant
    let connection: Connection
    private var processor: InboundProcessor
    private var logLimiter = LogLimiter(interval: .seconds(60))
    /// The last recovery's release: each waits for the one before, so that a `subscribe` that
    /// recovers, sent before the greeting's own recovery is done, is still answered after the greeting.
    private var lastRelease: Task<Void, Never>?

    /// Opens the connection: registers it (replacing one with the same id) and queues the greeting.
    init(
        dependencies: Dependencies,
        admission: WebSocketController.Admission,
        request: UpgradeRequest,
        remote: SocketAddress?,
        logger: Logger,
        hooks: Connection.SocketHooks
    ) {
        let (endpoint, grant) = (admission.endpoint, admission.grant)
        self.dependencies = dependencies
        self.endpoint = endpoint
        self.grant = grant
        let configuration = dependencies.configuration
        let query = request.query
        var connectionId = query["connection_id"].flatMap { InboundProcessor.echoable(String($0)) } ?? FrameEncoder.newCorrelationId()
        // With auth on, only the same subject takes over a connection id: nobody can push another
        // client off by reusing its id. Anyone else gets a fresh id (connection_established says which).
        if configuration.access.required, let existing = dependencies.manager.connection(id: connectionId), existing.subject != grant.subject {
            connectionId = FrameEncoder.newCorrelationId()
        }
        // Topics the credential forbids are left out of an endpoint's defaults; asking for them was refused (403).
        let (subscriptions, greetingErrors) = ConnectionSubscriptions.connecting(
            defaults: endpoint.defaultSubscriptions,
            requested: admission.requested,
            forbidden: grant.forbiddenTopics,
            maxSubscriptions: configuration.limits.maxSubscriptions
        )

        let now = ContinuousClock.now
        connection = Connection(
            id: connectionId,
            endpoint: endpoint,
            subject: grant.subject,
            queue: OutboundQueue(
                maxBytes: configuration.outbound.queueBytes,
                maxFrames: configuration.outbound.queueFrames,
                failureThreshold: configuration.outbound.backpressureThreshold
            ),
            idleTimeout: configuration.timeouts.idle,
            credentialExpiry: grant.expiresAt.map { now + .seconds($0.timeIntervalSinceNow) },
            now: now,
            logger: logger,
            hooks: hooks,
            // Registered before its greeting is queued: broadcasts wait behind the greeting.
            holdUntilGreeting: true
        )
        processor = InboundProcessor(
            subscriptions: subscriptions,
            rateLimiter: RateLimiter(
                rate: configuration.rateLimit.tokensPerSecond,
                burst: configuration.rateLimit.burst,
                cooldown: configuration.rateLimit.cooldown,
                abuseWindow: configuration.rateLimit.abuseWindow,
                now: now
            ),
            maxMessageBytes: configuration.limits.maxMessageBytes
        )
        if let replaced = dependencies.manager.register(connection, topics: subscriptions.topics) {
            replaced.requestClose(.replaced)
            connection.logger.info("Connection id reused: the previous connection is replaced")
        }
        dependencies.metrics.connectionsOpened.increment()
        if connection.logger.logLevel <= .info {
            connection.logger.info("WebSocket opened", metadata: ["remote": "\(remote?.description ?? "unknown")"])
        }
        let (plan, invalidOffsets) = RecoveryPlan.fromQuery(epoch: query["epoch"].map(String.init), offsets: query["offsets"].map(String.init))
        var errors = greetingErrors
        if !invalidOffsets.isEmpty { errors.append(.error(message: ErrorText.invalidOffsets(invalidOffsets), code: .invalidMessage)) }
        greet(errors: errors, recovering: plan?.restricted(to: subscriptions.topics))
    }

    /// Applies the inbound rules to one message.
    func receive(_ input: InboundProcessor.Message, now: ContinuousClock.Instant) {
        connection.recordActivity(at: now)
        dependencies.metrics.messagesReceived.increment()
        dependencies.metrics.bytesReceived.increment(by: Int64(input.byteCount))
        for action in processor.process(input, at: now) {
            perform(action, now: now)
        }
    }

    /// The socket closed: the connection leaves the manager, and its end is logged.
    func finish() {
        let ending = connection.markFinished()
        dependencies.manager.unregister(connection)
        dependencies.metrics.disconnections.increment()
        guard connection.logger.logLevel <= .info else { return }
        let (reason, code): (String, String) =
            switch ending {
            case .server(let request): (request.reason.rawValue, "\(request.code)")
            case .client: ("client_closed", "client")
            case .protocolViolation(let code): ("protocol_error", "\(code)")
            }
        connection.logger.info("WebSocket closed", metadata: ["reason": "\(reason)", "close_code": "\(code)"])
    }

    /// The notice that goes before a close frame, serialized and framed; nil if it cannot be.
    func closeNotice(for request: CloseRequest) -> OutboundFrame? {
        let notice = ServerMessage.disconnectNotice(
            DisconnectNotice(
                reason: request.reason,
                detail: request.detail,
                reconnect: request.reconnect,
                correlationId: FrameEncoder.newCorrelationId(),
                timestamp: FrameEncoder.timestamp()
            )
        )
        guard let frame = try? dependencies.encoder.frame(for: notice) else { return nil }
        dependencies.metrics.messagesSent.increment()
        dependencies.metrics.bytesSent.increment(by: Int64(frame.bytes.readableBytes))
        return frame
    }

    /// `connection_established` first; on the dashboard, `dashboard_initialized` second; then any
    /// query errors; then, for the topics the query asked to recover, the missed events; then the
    /// live frames held meanwhile. Each topic's position is read after the connection registered.
    private func greet(errors: [InboundProcessor.Reply], recovering plan: RecoveryPlan?) {
        let topics = processor.subscriptions.topics
        let streams = dependencies.history.streams(of: topics)
        let greeting = Greeting(
            dependencies: dependencies,
            connectionId: connection.id,
            endpoint: endpoint,
            topics: topics,
            errors: errors
        )
        guard let plan, !plan.offsets.isEmpty else {
            connection.release([], greeting: true, leading: greeting.frames(streams: streams), covered: streams.positions)
            return
        }
        let (history, connection) = (dependencies.history, connection)
        lastRelease = Task {
            let outcomes = await history.recover(plan)
            connection.release(
                [],
                greeting: true,
                leading: greeting.frames(streams: streams.merging(outcomes.mapValues(\.stream)) { $1 }),
                replays: outcomes.mapValues(\.replay),
                covered: streams.positions.merging(outcomes.compactMapValues(\.covered)) { $1 }
            )
        }
    }

    /// A `subscribe` that recovers the topics it adds: their live frames wait until the
    /// `subscription_updated` and the replays are queued.
    private func subscribeRecovering(_ topics: Set<Subscription>, plan: RecoveryPlan, correlationId: String?) {
        let recovering = Set(plan.offsets.keys)
        connection.hold(recovering)
        dependencies.manager.updateSubscriptions(of: connection, to: topics)
        let streams = dependencies.history.streams(of: topics)
        let (dependencies, connection, previous) = (dependencies, connection, lastRelease)
        lastRelease = Task {
            let outcomes = await dependencies.history.recover(plan)
            await previous?.value
            let reply = try? dependencies.encoder.frame(
                for: .subscriptionUpdated(SubscriptionRules.sorted(topics)),
                correlationId: correlationId,
                streams: TopicStream.wire(streams.merging(outcomes.mapValues(\.stream)) { $1 })
            )
            connection.release(
                recovering,
                greeting: false,
                leading: reply.map { [$0] } ?? [],
                replays: outcomes.mapValues(\.replay),
                covered: outcomes.compactMapValues(\.covered)
            )
        }
    }

    private func perform(_ action: InboundProcessor.Action, now: ContinuousClock.Instant) {
        switch action {
        case .reply(let reply, let correlationId):
            self.reply(reply, correlationId: correlationId)
        case .setSubscriptions(let subscriptions):
            dependencies.manager.updateSubscriptions(of: connection, to: subscriptions)
        case .subscribeRecovering(let subscriptions, let plan, let correlationId):
            subscribeRecovering(subscriptions, plan: plan, correlationId: correlationId)
        case .answerDataRequest(let dataType, let correlationId):
            let response = ServerMessage.dataResponse(
                DataResponse(
                    dataType: dataType,
                    data: dependencies.requestedData.data(for: dataType),
                    correlationId: correlationId ?? FrameEncoder.newCorrelationId(),
                    timestamp: FrameEncoder.timestamp()
                )
            )
            send(response)
        case .droppedByRateLimit:
            dependencies.metrics.droppedByRateLimit.increment()
        case .disconnectForAbuse:
            guard let window = dependencies.configuration.rateLimit.abuseWindow else { return }
            // Behind the replies already on their way (`enqueue`), which go out before the notice.
            let (connection, metrics) = (connection, dependencies.metrics)
            connection.afterPendingBroadcasts {
                guard connection.requestClose(.rateLimitAbuse(window: window), now: now) else { return }
                metrics.abuseDisconnects.increment()
                connection.logger.warning("Disconnecting a client that kept flooding past the abuse window")
            }
        case .logUnknownMessageType(let type):
            if logLimiter.allow("unknown_type", at: now) {
                connection.logger.notice("Unknown message type", metadata: ["type": "\(type)"])
            }
        case .logInvalidSubscriptions(let names):
            if logLimiter.allow("invalid_subscriptions", at: now) {
                connection.logger.notice("Invalid subscriptions requested", metadata: ["subscriptions": "\(names.joined(separator: ", "))"])
            }
        }
    }

    private func reply(_ reply: InboundProcessor.Reply, correlationId: String?) {
        // A `subscription_updated` says where each topic stands, read after the index changed.
        var streams: TopicStreams?
        if case .subscriptionUpdated = reply { streams = TopicStream.wire(dependencies.history.streams(of: processor.subscriptions.topics)) }
        do {
            enqueue(try dependencies.encoder.frame(for: reply, correlationId: correlationId, streams: streams))
        } catch {
            connection.logger.error("Cannot serialize a reply", metadata: ["error": "\(error)"])
        }
    }

    private func send(_ message: ServerMessage) {
        do {
            enqueue(try dependencies.encoder.frame(for: message))
        } catch {
            connection.logger.error("Cannot serialize a frame", metadata: ["type": "\(message.type)", "error": "\(error)"])
        }
    }

    /// Queues a reply behind the broadcasts already handed to the connection's event loop: a
    /// `subscription_updated` reports positions read after them, and every reply keeps its order.
    private func enqueue(_ frame: OutboundFrame) {
        let (connection, manager) = (connection, dependencies.manager)
        connection.afterPendingBroadcasts {
            if case .failed(let failures, let closing) = connection.enqueue(frame) {
                manager.recordSendFailure(frame, connection: connection, failures: failures, closing: closing)
            }
        }
    }
}

extension InboundProcessor.Message {
    var byteCount: Int {
        switch self {
        case .text(let buffer), .binary(let buffer): buffer.readableBytes
        }
    }
}

/// The frames that open a dashboard connection, built from values only: a recovery finishes them
/// on another task.
struct Greeting: Sendable {
    let dependencies: ConnectionSession.Dependencies
    let connectionId: String
    let endpoint: DashboardEndpoint
    let topics: Set<Subscription>
    let errors: [InboundProcessor.Reply]

    func frames(streams: [Subscription: TopicStream]) -> [OutboundFrame] {
        let serverTime = FrameEncoder.timestamp()
        let subscriptions = SubscriptionRules.sorted(topics)
        let contractVersion = dependencies.configuration.contractVersion
        var messages: [ServerMessage] = [
            .connectionEstablished(
                ConnectionEstablished(
                    connectionId: connectionId,
                    subscriptions: subscriptions,
                    serverTime: serverTime,
                    contractVersion: contractVersion,
                    streams: TopicStream.wire(streams),
                    correlationId: FrameEncoder.newCorrelationId(),
                    timestamp: serverTime
                )
            )
        ]
        if endpoint.isDashboard {
            messages.append(
                .dashboardInitialized(
                    DashboardInitialized(
                        subscriptions: subscriptions,
                        contractVersion: contractVersion,
                        connectionInfo: ConnectionInfo(
                            connectionId: connectionId,
                            clientType: endpoint.clientType,
                            serverTime: serverTime,
                            contractVersion: contractVersion
                        ),
                        snapshot: dependencies.requestedData.snapshot(for: topics),
                        correlationId: FrameEncoder.newCorrelationId(),
                        timestamp: serverTime
                    )
                )
            )
        }
        var frames = messages.compactMap { try? dependencies.encoder.frame(for: $0) }
        frames += errors.compactMap { try? dependencies.encoder.frame(for: $0, correlationId: nil) }
        return frames
    }
}

extension TopicStream {
    /// Keyed by topic name, as the wire has it; nil when there is no topic.
    static func wire(_ streams: [Subscription: TopicStream]) -> TopicStreams? {
        streams.isEmpty ? nil : Dictionary(uniqueKeysWithValues: streams.map { ($0.key.rawValue, $0.value) })
    }
}

extension Dictionary where Key == Subscription, Value == TopicStream {
    /// The positions the streams report: live frames at or below them are not sent.
    var positions: [Subscription: StreamPosition] {
        compactMapValues { stream in stream.epoch.flatMap { epoch in stream.offset.map { StreamPosition(epoch: epoch, offset: $0) } } }
    }
}
