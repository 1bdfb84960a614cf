import Foundation
import GeneratedMessages
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Prometheus

/// Runs one WebSocket connection: the greeting, a reader that applies the
/// inbound rules, and a writer that drains the connection's queue, until the
/// client leaves or the server closes it.
struct ConnectionSession {
    let services: GatewayServices
    let endpoint: DashboardEndpoint
    let grant: AccessGrant
    let request: UpgradeRequest

    private enum TaskEnd {
        /// The reader ended; `failure` is the inbound stream's error (a protocol violation), if any.
        case readerEnded(failure: (any Error)?)
        case writerSentClose
        case writerEnded
    }

    /// Throws the inbound stream's protocol error, so that the WebSocket handler closes with its code
    /// (1002, 1007, 1009) rather than 1000.
    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel, logger: Logger) async throws {
        let configuration = services.configuration
        let query = request.query
        var connectionId = query["connection_id"].flatMap { InboundProcessor.echoable(String($0)) } ?? FrameEncoder.newCorrelationId()
        // With auth on, only the same subject takes over a connection id: nobody can push another
        // client off by reusing its id. Anyone else gets a fresh id (connection_established says which).
        if configuration.access.required, let existing = services.manager.connection(id: connectionId), existing.subject != grant.subject {
            connectionId = FrameEncoder.newCorrelationId()
        }
        var greetingErrors: [InboundProcessor.Reply] = []
        // Topics the credential forbids are left out of an endpoint's defaults; asking for them was refused (403).
        var subscriptions = endpoint.defaultSubscriptions.filter(grant.permits)
        if endpoint.isDashboard, let requested = query["subscriptions"] {
            let names = SubscriptionRules.names(fromQuery: String(requested))
            if names.count > configuration.maxSubscriptions {
                greetingErrors.append(.error(message: ErrorText.tooManySubscriptions, code: .tooManySubscriptions))
            } else if !names.isEmpty {
                let resolution = SubscriptionRules.resolve(names)
                subscriptions = resolution.valid.filter(grant.permits)
                if !resolution.invalid.isEmpty {
                    greetingErrors.append(
                        .error(message: SubscriptionRules.invalidSubscriptionsMessage(resolution.invalid), code: .invalidSubscription)
                    )
                }
            }
        }

        var logger = logger
        logger[metadataKey: "connection_id"] = "\(connectionId)"
        logger[metadataKey: "endpoint"] = "\(endpoint.rawValue)"
        let now = ContinuousClock.now
        let connection = Connection(
            id: connectionId,
            endpoint: endpoint,
            subject: grant.subject,
            subscriptions: subscriptions,
            queue: OutboundQueue(
                maxBytes: configuration.outboundQueueMaxBytes,
                maxFrames: configuration.outboundQueueMaxFrames,
                failureThreshold: configuration.backpressureThreshold
            ),
            idleTimeout: configuration.idleTimeout,
            credentialExpiry: grant.expiresAt.map { now + .seconds($0.timeIntervalSinceNow) },
            now: now,
            logger: logger,
            forceCloseSocket: { channel.close(mode: .all, promise: nil) },
            scheduleFlush: { [metrics = services.metrics] connection in ConnectionFlusher.schedule(connection, on: channel, metrics: metrics) }
        )
        if let replaced = services.manager.register(connection) {
            replaced.requestClose(.replaced)
            logger.info("Connection id reused: the previous connection is replaced")
        }
        services.metrics.connectionsOpened.increment()
        logger.info("WebSocket opened", metadata: ["remote": "\(channel.remoteAddress?.description ?? "unknown")"])

        greet(connection, errors: greetingErrors)
        let (closeRequest, protocolError) = await serve(connection, inbound: inbound, outbound: outbound, now: now)

        connection.markFinished()
        services.manager.unregister(connection)
        services.metrics.disconnections.increment()
        logger.info(
            "WebSocket closed",
            metadata: [
                "reason": "\(closeRequest.map { $0.reason.rawValue } ?? (protocolError == nil ? "client_closed" : "protocol_error"))",
                "close_code": "\(closeRequest.map { "\($0.code)" } ?? "client")",
            ]
        )
        if let protocolError { throw protocolError }
    }

    /// `connection_established` first; on the dashboard, `dashboard_initialized` second; then any query errors.
    private func greet(_ connection: Connection, errors: [InboundProcessor.Reply]) {
        let serverTime = FrameEncoder.timestamp()
        let subscriptions = SubscriptionRules.sorted(connection.subscriptions)
        var messages: [ServerMessage] = [
            .connectionEstablished(
                ConnectionEstablished(
                    connectionId: connection.id,
                    subscriptions: subscriptions,
                    serverTime: serverTime,
                    contractVersion: services.configuration.contractVersion,
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
                        contractVersion: services.configuration.contractVersion,
                        connectionInfo: ConnectionInfo(
                            connectionId: connection.id,
                            clientType: endpoint.clientType,
                            serverTime: serverTime,
                            contractVersion: services.configuration.contractVersion
                        ),
                        snapshot: services.lastKnown.snapshot(for: connection.subscriptions),
                        correlationId: FrameEncoder.newCorrelationId(),
                        timestamp: serverTime
                    )
                )
            )
        }
        for message in messages { send(message, to: connection) }
        for error in errors { reply(error, correlationId: nil, to: connection) }
    }

    /// Runs the reader and the writer; returns the server's close request (nil when the client left)
    /// and the error the client's input ended with, if it ended first.
    private func serve(
        _ connection: Connection,
        inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter,
        now: ContinuousClock.Instant
    ) async -> (CloseRequest?, (any Error)?) {
        let closeRequest = SendableBox<CloseRequest?>(nil)
        var protocolError: (any Error)?
        await withTaskGroup(of: TaskEnd.self) { group in
            group.addTask {
                do {
                    if let request = try await write(connection, to: outbound) {
                        closeRequest.value = request
                        return .writerSentClose
                    }
                } catch {
                    connection.logger.debug("Write failed", metadata: ["error": "\(error)"])
                }
                return .writerEnded
            }
            group.addTask {
                .readerEnded(failure: await read(connection, from: inbound, now: now))
            }
            // After the close frame, wait for the peer's answer (the reader ends); the sweeper
            // closes the socket outright if it does not come within the grace period.
            while let end = await group.next() {
                if case .writerSentClose = end { continue }
                if case .readerEnded(let failure?) = end, closeRequest.value == nil, !(failure is CancellationError) {
                    protocolError = failure
                }
                group.cancelAll()
            }
        }
        return (closeRequest.value, protocolError)
    }

    /// Sends the notice and the close frame once the flusher has written every queued frame;
    /// returns the close it sent, nil if the connection ended without one.
    private func write(_ connection: Connection, to outbound: WebSocketOutboundWriter) async throws -> CloseRequest? {
        let metrics = services.metrics
        while true {
            switch await connection.nextWriterAction() {
            case .close(let request):
                let notice = ServerMessage.disconnectNotice(
                    DisconnectNotice(
                        reason: request.reason,
                        detail: request.detail,
                        reconnect: request.reconnect,
                        correlationId: FrameEncoder.newCorrelationId(),
                        timestamp: FrameEncoder.timestamp()
                    )
                )
                if let frame = try? services.encoder.frame(for: notice) {
                    metrics.messagesSent.increment()
                    metrics.bytesSent.increment(by: Int64(frame.bytes.readableBytes))
                    try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: frame.bytes)))
                }
                try await outbound.close(request.code, reason: request.reason.rawValue)
                return request
            case .finish:
                return nil
            }
        }
    }

    /// Applies the inbound rules to each message until the client closes or the task is cancelled.
    /// Returns the error the inbound stream ended with, nil when the client closed cleanly.
    private func read(_ connection: Connection, from inbound: WebSocketInboundStream, now start: ContinuousClock.Instant) async -> (any Error)? {
        let configuration = services.configuration
        var processor = InboundProcessor(
            subscriptions: connection.subscriptions,
            rateLimiter: RateLimiter(
                rate: configuration.rateLimitTokensPerSecond,
                burst: configuration.rateLimitBurst,
                cooldown: configuration.rateLimitCooldown,
                abuseWindow: configuration.rateLimitAbuseWindow,
                now: start
            ),
            limits: .init(maxMessageBytes: configuration.maxMessageBytes, maxSubscriptions: configuration.maxSubscriptions),
            forbiddenTopics: grant.forbiddenTopics
        )
        var logLimiter = LogLimiter(interval: .seconds(60))
        do {
            for try await message in inbound.messages(maxSize: configuration.maxFrameBytes) {
                let now = ContinuousClock.now
                connection.recordActivity(at: now)
                let input: InboundProcessor.Message
                switch message {
                case .text(let text): input = .text(ByteBuffer(string: text))
                case .binary(let buffer): input = .binary(buffer)
                }
                services.metrics.messagesReceived.increment()
                services.metrics.bytesReceived.increment(by: Int64(input.byteCount))
                for action in processor.process(input, at: now) {
                    perform(action, on: connection, logLimiter: &logLimiter, now: now)
                }
            }
        } catch {
            connection.logger.debug("Inbound stream ended with an error", metadata: ["error": "\(error)"])
            return error
        }
        return nil
    }

    private func perform(_ action: InboundProcessor.Action, on connection: Connection, logLimiter: inout LogLimiter, now: ContinuousClock.Instant) {
        switch action {
        case .reply(let reply, let correlationId):
            self.reply(reply, correlationId: correlationId, to: connection)
        case .setSubscriptions(let subscriptions):
            services.manager.updateSubscriptions(of: connection, to: subscriptions)
        case .answerDataRequest(let dataType, let correlationId):
            let response = ServerMessage.dataResponse(
                DataResponse(
                    dataType: dataType,
                    data: services.data(for: dataType),
                    correlationId: correlationId ?? FrameEncoder.newCorrelationId(),
                    timestamp: FrameEncoder.timestamp()
                )
            )
            send(response, to: connection)
        case .droppedByRateLimit:
            services.metrics.droppedByRateLimit.increment()
        case .disconnectForAbuse:
            if let window = services.configuration.rateLimitAbuseWindow, connection.requestClose(.rateLimitAbuse(window: window), now: now) {
                services.metrics.abuseDisconnects.increment()
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

    private func reply(_ reply: InboundProcessor.Reply, correlationId: String?, to connection: Connection) {
        do {
            enqueue(try services.encoder.frame(for: reply, correlationId: correlationId), to: connection)
        } catch {
            connection.logger.error("Cannot serialize a reply", metadata: ["error": "\(error)"])
        }
    }

    private func send(_ message: ServerMessage, to connection: Connection) {
        do {
            enqueue(try services.encoder.frame(for: message), to: connection)
        } catch {
            connection.logger.error("Cannot serialize a frame", metadata: ["type": "\(message.type)", "error": "\(error)"])
        }
    }

    private func enqueue(_ frame: OutboundFrame, to connection: Connection) {
        if case .failed(let failures, let closing) = connection.enqueue(frame) {
            services.manager.recordSendFailure(frame, connection: connection, failures: failures, closing: closing)
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
