import Foundation
package import GeneratedMessages
package import NIOCore
import NIOFoundationEssentialsCompat

/// Applies the inbound rules to one connection's messages and says what to do,
/// without doing any I/O: rate limit, size, JSON, dispatch. Owned by the
/// connection's reader, so it needs no locking.
package struct InboundProcessor: Sendable {
    /// A reply to the client; the session adds `timestamp` and the correlation id.
    package enum Reply: Equatable, Sendable {
        case pong
        case error(message: String, code: ErrorCode, retryAfterMilliseconds: Int? = nil)
        case subscriptionUpdated([Subscription])
        case dataError(dataType: String, error: String)
    }

    package enum Action: Equatable, Sendable {
        /// Send a reply, echoing `correlationId` when the client gave one.
        case reply(Reply, correlationId: String?)
        /// The connection's topics are now these.
        case setSubscriptions(Set<Subscription>)
        /// The connection's topics are now these, and the plan's topics (just added) recover their
        /// missed events: `subscription_updated` comes once they are ready, then the replays.
        case subscribeRecovering(Set<Subscription>, RecoveryPlan, correlationId: String?)
        /// Answer a known `request_data`.
        case answerDataRequest(DataType, correlationId: String?)
        /// The message was dropped by the rate limit.
        case droppedByRateLimit
        /// Disconnect: the client flooded for longer than the abuse window.
        case disconnectForAbuse
        /// Worth a (rate-limited) log line.
        case logUnknownMessageType(String)
        case logInvalidSubscriptions([String])
    }

    package enum Message: Sendable {
        case text(ByteBuffer)
        case binary(ByteBuffer)
    }

    /// The connection's topics: this processor is their one owner.
    package private(set) var subscriptions: ConnectionSubscriptions
    private var rateLimiter: RateLimiter
    /// Text messages above this get an error and are dropped.
    private let maxMessageBytes: Int
    /// One for every connection: a decoder per connection was 150 bytes of its memory, and decoding
    /// keeps no state in it.
    private static let decoder = JSONDecoder()

    package init(subscriptions: ConnectionSubscriptions, rateLimiter: RateLimiter, maxMessageBytes: Int) {
        self.subscriptions = subscriptions
        self.rateLimiter = rateLimiter
        self.maxMessageBytes = maxMessageBytes
    }

    /// Every message takes a token, malformed ones included, so that error
    /// replies cannot amplify a flood; past the limit messages are dropped
    /// unprocessed with one notice per cooldown window.
    package mutating func process(_ message: Message, at now: ContinuousClock.Instant) -> [Action] {
        switch rateLimiter.admit(at: now) {
        case .accepted:
            break
        case .abusive:
            return [.droppedByRateLimit, .disconnectForAbuse]
        case .rejected(let notify, let retryAfter):
            guard notify else { return [.droppedByRateLimit] }
            let milliseconds = Int((retryAfter / .milliseconds(1)).rounded(.up))
            return [
                .droppedByRateLimit,
                .reply(.error(message: ErrorText.rateLimitExceeded, code: .rateLimited, retryAfterMilliseconds: milliseconds), correlationId: nil),
            ]
        }
        let bytes: ByteBuffer
        switch message {
        case .binary:
            return [.reply(.error(message: ErrorText.binaryNotSupported, code: .binaryNotSupported), correlationId: nil)]
        case .text(let text):
            bytes = text
        }
        guard bytes.readableBytes <= maxMessageBytes else {
            return [.reply(.error(message: ErrorText.messageTooLarge, code: .messageTooLarge), correlationId: nil)]
        }
        let clientMessage: ClientMessage
        do {
            clientMessage = try Self.decoder.decode(ClientMessage.self, from: bytes)
        } catch {
            return [rejectUndecodable(bytes)]
        }
        return dispatch(clientMessage)
    }

    private mutating func dispatch(_ message: ClientMessage) -> [Action] {
        switch message {
        case .ping(let ping):
            return [.reply(.pong, correlationId: Self.echoable(ping.correlationId))]
        case .subscribe(let subscribe):
            let names = SubscriptionRules.requestedNames(subscribe.subscriptions, sent: subscribe.additionalProperties["subscriptions"])
            return self.subscribe(names, recover: subscribe.recover, correlationId: Self.echoable(subscribe.correlationId))
        case .unsubscribe(let unsubscribe):
            subscriptions.unsubscribe(
                SubscriptionRules.requestedNames(unsubscribe.subscriptions, sent: unsubscribe.additionalProperties["subscriptions"])
            )
            return [
                .setSubscriptions(subscriptions.topics),
                .reply(.subscriptionUpdated(subscriptions.sorted), correlationId: Self.echoable(unsubscribe.correlationId)),
            ]
        case .requestData(let request):
            let correlationId = Self.echoable(request.correlationId)
            if let dataType = request.dataType, DataType.allCases.contains(dataType) {
                return [.answerDataRequest(dataType, correlationId: correlationId)]
            }
            // Unknown, absent, null or not a string: a `data_error` that names what was sent.
            let sent = request.additionalProperties["data_type"]
            let name = request.dataType?.rawValue ?? sent.map { $0 == .null ? "" : $0.nameAsSent } ?? ""
            return [.reply(.dataError(dataType: name, error: ErrorText.unknownDataType(name)), correlationId: correlationId)]
        case .unknown:
            let type = message.type
            return [
                .reply(
                    .error(message: ErrorText.unknownMessageType(type), code: .unknownMessageType),
                    correlationId: Self.echoable(message.correlationId)
                ),
                .logUnknownMessageType(type),
            ]
        }
    }

    private mutating func subscribe(_ names: [String], recover: RecoveryRequest?, correlationId: String?) -> [Action] {
        let before = subscriptions.topics
        let change = subscriptions.subscribe(names)
        var actions: [Action] = []
        for error in change.errors {
            actions.append(.reply(error, correlationId: correlationId))
            // The unknown names' log line follows their error.
            if case .error(_, .invalidSubscription, _) = error { actions.append(.logInvalidSubscriptions(change.invalid)) }
        }
        // Too many names change nothing and get their error alone.
        guard names.count <= subscriptions.maxSubscriptions else { return actions }
        let (plan, invalidOffsets) = recover.map(RecoveryPlan.from) ?? (nil, [])
        if !invalidOffsets.isEmpty {
            actions.append(.reply(.error(message: ErrorText.invalidOffsets(invalidOffsets), code: .invalidMessage), correlationId: correlationId))
        }
        // Only topics this message adds recover: the others' live frames already flow.
        if let plan = plan?.restricted(to: subscriptions.topics.subtracting(before)), !plan.offsets.isEmpty {
            actions.append(.subscribeRecovering(subscriptions.topics, plan, correlationId: correlationId))
            return actions
        }
        actions.append(.setSubscriptions(subscriptions.topics))
        actions.append(.reply(.subscriptionUpdated(subscriptions.sorted), correlationId: correlationId))
        return actions
    }

    /// Says why a message did not decode: not JSON, or not an object with a string `type` (the
    /// generated decoders take any known message whose other members are absent or mistyped).
    private func rejectUndecodable(_ bytes: ByteBuffer) -> Action {
        guard (try? Self.decoder.decode(JSONValue.self, from: bytes)) != nil else {
            return .reply(.error(message: ErrorText.invalidJSON, code: .invalidJson), correlationId: nil)
        }
        return .reply(.error(message: ErrorText.notAnObject, code: .invalidMessage), correlationId: nil)
    }

    /// A client's correlation id is echoed when it is a non-empty string of at most 128 characters.
    static func echoable(_ id: String?) -> String? {
        guard let id, !id.isEmpty, id.count <= 128 else { return nil }
        return id
    }
}
