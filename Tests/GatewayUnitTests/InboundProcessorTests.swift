import GeneratedMessages
import HiveOpsGateway
import NIOCore
import TestSupport
import Testing

/// The inbound rules and subscription rules, without I/O.
@Suite struct InboundProcessorTests {
    let start = ContinuousClock.now

    func processor(_ subscriptions: Set<Subscription> = [.agents], burst: Int = 40) -> InboundProcessor {
        InboundProcessor(
            subscriptions: ConnectionSubscriptions(topics: subscriptions, maxSubscriptions: 10),
            rateLimiter: RateLimiter(rate: 20, burst: burst, cooldown: .seconds(5), abuseWindow: .seconds(30), now: start),
            maxMessageBytes: 256
        )
    }

    func text(_ string: String) -> InboundProcessor.Message { .text(ByteBuffer(string: string)) }

    @Test func pingGetsPongEchoingTheCorrelationId() {
        var inbound = processor()
        #expect(inbound.process(text(#"{"type":"ping","correlation_id":"p-1"}"#), at: start) == [.reply(.pong, correlationId: "p-1")])
        #expect(inbound.process(text(#"{"type":"ping"}"#), at: start) == [.reply(.pong, correlationId: nil)])
    }

    @Test func overlongCorrelationIdsAreNotEchoed() {
        var inbound = processor()
        let id = String(repeating: "a", count: 129)
        #expect(inbound.process(text(#"{"type":"ping","correlation_id":"\#(id)"}"#), at: start) == [.reply(.pong, correlationId: nil)])
    }

    @Test func subscribeFoldsDuplicatesAndReportsUnknownNamesOnceSorted() {
        var inbound = processor([.agents])
        let actions = inbound.process(text(#"{"type":"subscribe","subscriptions":["tasks","zeta","tasks","alpha"],"correlation_id":"s"}"#), at: start)
        #expect(
            actions == [
                .reply(.error(message: "Invalid subscription(s): alpha, zeta", code: .invalidSubscription), correlationId: "s"),
                .logInvalidSubscriptions(["alpha", "zeta"]),
                .setSubscriptions([.agents, .tasks]),
                .reply(.subscriptionUpdated([.agents, .tasks]), correlationId: "s"),
            ]
        )
    }

    @Test func subscriptionsAreReadLiberally() {
        var inbound = processor([.agents])
        // A lone string is a list of one; absent or null is none.
        #expect(
            inbound.process(text(#"{"type":"subscribe","subscriptions":"tasks"}"#), at: start)
                == [.setSubscriptions([.agents, .tasks]), .reply(.subscriptionUpdated([.agents, .tasks]), correlationId: nil)]
        )
        for none in [#"{"type":"subscribe"}"#, #"{"type":"subscribe","subscriptions":null}"#, #"{"type":"unsubscribe"}"#] {
            #expect(
                inbound.process(text(none), at: start)
                    == [.setSubscriptions([.agents, .tasks]), .reply(.subscriptionUpdated([.agents, .tasks]), correlationId: nil)]
            )
        }
        // Values that are not strings are invalid names, named by their JSON text; the rest still applies.
        #expect(
            inbound.process(text(#"{"type":"subscribe","subscriptions":[5,"system",{"b":1,"a":null}],"correlation_id":"s"}"#), at: start)
                == [
                    .reply(.error(message: #"Invalid subscription(s): 5, {"a":null,"b":1}"#, code: .invalidSubscription), correlationId: "s"),
                    .logInvalidSubscriptions(["5", #"{"a":null,"b":1}"#]),
                    .setSubscriptions([.agents, .system, .tasks]),
                    .reply(.subscriptionUpdated([.agents, .system, .tasks]), correlationId: "s"),
                ]
        )
        #expect(
            inbound.process(text(#"{"type":"unsubscribe","subscriptions":[true,"tasks"]}"#), at: start)
                == [.setSubscriptions([.agents, .system]), .reply(.subscriptionUpdated([.agents, .system]), correlationId: nil)]
        )
    }

    @Test func aMistypedCorrelationIdIsNotEchoedAndChangesNothingElse() {
        var inbound = processor()
        for id in ["5", "null", "{}", "[\"p\"]"] {
            #expect(inbound.process(text(#"{"type":"ping","correlation_id":\#(id)}"#), at: start) == [.reply(.pong, correlationId: nil)])
        }
    }

    @Test func tooManySubscriptionsChangeNothing() {
        var inbound = InboundProcessor(
            subscriptions: ConnectionSubscriptions(topics: [.agents], maxSubscriptions: 3),
            rateLimiter: RateLimiter(rate: 20, burst: 40, cooldown: .seconds(5), abuseWindow: nil, now: start),
            maxMessageBytes: 4_096
        )
        let actions = inbound.process(text(#"{"type":"subscribe","subscriptions":["tasks","system","alerts","coordination"]}"#), at: start)
        #expect(actions == [.reply(.error(message: "Too many subscriptions requested", code: .tooManySubscriptions), correlationId: nil)])
        #expect(inbound.subscriptions.topics == [.agents])
    }

    @Test func unsubscribeIgnoresUnknownNames() {
        var inbound = processor([.agents, .tasks])
        let actions = inbound.process(text(#"{"type":"unsubscribe","subscriptions":["tasks","nope"]}"#), at: start)
        #expect(actions == [.setSubscriptions([.agents]), .reply(.subscriptionUpdated([.agents]), correlationId: nil)])
    }

    @Test func requestData() {
        var inbound = processor()
        #expect(
            inbound.process(text(#"{"type":"request_data","data_type":"agent_status","correlation_id":"r"}"#), at: start)
                == [.answerDataRequest(.agentStatus, correlationId: "r")]
        )
        #expect(
            inbound.process(text(#"{"type":"request_data","data_type":"weather"}"#), at: start)
                == [.reply(.dataError(dataType: "weather", error: "Unknown data type: weather"), correlationId: nil)]
        )
    }

    @Test func requestDataWithoutAStringDataTypeIsADataErrorNamingWhatWasSent() {
        var inbound = processor()
        let cases: [(body: String, name: String)] = [
            (#"{"type":"request_data","correlation_id":"r"}"#, ""),
            (#"{"type":"request_data","data_type":null,"correlation_id":"r"}"#, ""),
            (#"{"type":"request_data","data_type":5,"correlation_id":"r"}"#, "5"),
            (#"{"type":"request_data","data_type":{"kind":"agent_status"},"correlation_id":"r"}"#, #"{"kind":"agent_status"}"#),
            (#"{"type":"request_data","data_type":["agent_status"],"correlation_id":"r"}"#, #"["agent_status"]"#),
        ]
        for (body, name) in cases {
            #expect(
                inbound.process(text(body), at: start)
                    == [.reply(.dataError(dataType: name, error: "Unknown data type: \(name)"), correlationId: "r")],
                "\(body)"
            )
        }
    }

    @Test func everyFrameThePWASendsGetsTodaysReply() throws {
        var inbound = processor()
        for (name, body) in try PWAFrames.all() {
            let actions = inbound.process(text(body), at: start)
            if name == "ping" {
                #expect(actions == [.reply(.pong, correlationId: nil)], "\(name)")
            } else {
                #expect(
                    actions.first == .reply(.error(message: "Unknown message type: \(name)", code: .unknownMessageType), correlationId: nil),
                    "\(name)"
                )
            }
        }
    }

    @Test func malformedInputGetsTheHiveOpsErrorTexts() {
        var inbound = processor()
        #expect(
            inbound.process(text("not json"), at: start) == [
                .reply(.error(message: "Invalid JSON message format", code: .invalidJson), correlationId: nil)
            ]
        )
        for notAnObject in ["[1,2]", "42", #""ping""#, #"{"kind":"ping"}"#, #"{"type":7}"#] {
            #expect(
                inbound.process(text(notAnObject), at: start) == [
                    .reply(.error(message: ErrorText.notAnObject, code: .invalidMessage), correlationId: nil)
                ]
            )
        }
        #expect(
            inbound.process(text(#"{"type":"zap","correlation_id":"z"}"#), at: start)
                == [
                    .reply(.error(message: "Unknown message type: zap", code: .unknownMessageType), correlationId: "z"),
                    .logUnknownMessageType("zap"),
                ]
        )
        #expect(
            inbound.process(.binary(ByteBuffer(bytes: [1, 2])), at: start) == [
                .reply(.error(message: ErrorText.binaryNotSupported, code: .binaryNotSupported), correlationId: nil)
            ]
        )
    }

    @Test func messagesOverTheLimitAreTooLargeAndTheNextOneIsServed() {
        var inbound = processor()
        let big = #"{"type":"ping","pad":""# + String(repeating: "x", count: 256) + #""}"#
        #expect(inbound.process(text(big), at: start) == [.reply(.error(message: "Message too large", code: .messageTooLarge), correlationId: nil)])
        #expect(inbound.process(text(#"{"type":"ping"}"#), at: start) == [.reply(.pong, correlationId: nil)])
    }

    @Test func sixtyPingsGiveFortyPongsAndOneNotice() {
        var inbound = processor()
        var pongs = 0
        var notices = 0
        var dropped = 0
        for _ in 0..<60 {
            for action in inbound.process(text(#"{"type":"ping"}"#), at: start) {
                switch action {
                case .reply(.pong, _): pongs += 1
                case .reply(.error(let message, .rateLimited, let retryAfter), _):
                    #expect(message == "Rate limit exceeded")
                    #expect(retryAfter == 50)
                    notices += 1
                case .droppedByRateLimit: dropped += 1
                default: Issue.record("unexpected \(action)")
                }
            }
        }
        #expect(pongs == 40)
        #expect(notices == 1)
        #expect(dropped == 20)
    }
}
