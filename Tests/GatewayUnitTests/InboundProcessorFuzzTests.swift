import Foundation
import GeneratedMessages
import HiveOpsGateway
import NIOCore
import TestSupport
import Testing

/// The inbound rules in-process, over the same generated inputs as the socket fuzz run: every
/// message gets exactly its documented reply, and nothing traps.
@Suite struct InboundProcessorFuzzTests {
    @Test func everyGeneratedMessageGetsExactlyItsDocumentedReply() throws {
        let seed = ProcessInfo.processInfo.environment["FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max)
        var random = SeededRandom(seed: seed)
        let now = ContinuousClock.now
        var processor = InboundProcessor(
            subscriptions: ConnectionSubscriptions(topics: [.coordination, .tasks], maxSubscriptions: 10),
            rateLimiter: RateLimiter(rate: 1e9, burst: 1_000_000, cooldown: .seconds(5), abuseWindow: nil, now: now),
            maxMessageBytes: 16_384
        )
        var mismatches: [String] = []
        for _ in 0..<50_000 {
            let input = FuzzInputs.message(maxMessageBytes: 16_384, using: &random)
            let message: InboundProcessor.Message =
                switch input.payload {
                case .text(let text): .text(ByteBuffer(string: text))
                case .binary(let bytes): .binary(ByteBuffer(bytes: bytes))
                }
            let outcomes = processor.process(message, at: now).compactMap(Self.outcome)
            if !input.accepted.contains(outcomes), mismatches.count < 10 {
                mismatches.append("\(input.kind): \(outcomes) for \(input.describe())")
            }
        }
        #expect(mismatches.isEmpty, "seed \(seed): \(mismatches.joined(separator: "\n"))")
    }

    /// What the client would see for an action; nil for actions with no frame.
    static func outcome(_ action: InboundProcessor.Action) -> String? {
        switch action {
        case .reply(.pong, _): "pong"
        case .reply(.error(_, let code, _), _): "error:\(code.rawValue)"
        case .reply(.subscriptionUpdated, _), .subscribeRecovering: "subscription_updated"
        case .reply(.dataError, _): "data_error"
        case .answerDataRequest: "data_response"
        case .setSubscriptions, .droppedByRateLimit, .disconnectForAbuse, .logUnknownMessageType, .logInvalidSubscriptions: nil
        }
    }
}
