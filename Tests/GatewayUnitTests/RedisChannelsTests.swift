import GeneratedMessages
import HiveOpsGateway
import NIOCore
import Testing

/// How published payloads become broadcast events, without Redis.
@Suite struct RedisChannelsTests {
    func translate(_ channel: String, _ payload: String, pattern: String? = nil, connected: Set<String> = []) -> RedisChannels.Translation {
        RedisChannels.translate(channel: channel, pattern: pattern, payload: ByteBuffer(string: payload), isConnected: { connected.contains($0) })
    }

    @Test func systemAndAgentEvents() throws {
        #expect(
            translate("system_events", #"{"a":1,"correlation_id":"c"}"#)
                == .deliver(
                    try BroadcastEvent(type: "system_event", subscription: "system", data: ["a": 1, "correlation_id": "c"], correlationId: "c")
                )
        )
        #expect(
            translate("agent_events:agent-1", #"{"b":2}"#, pattern: "agent_events:*")
                == .deliver(try BroadcastEvent(type: "agent_event", subscription: "agents", data: ["b": 2], correlationId: nil))
        )
    }

    /// Elsewhere an event is still recorded in the history (a subscriber may recover it on any node).
    @Test func projectIndexEventsGoWhenASubscriberIsHereOrNoneIsNamed() throws {
        let event = try BroadcastEvent(type: "project_index_event", subscription: "project_index", data: ["p": 1], correlationId: nil)
        #expect(translate("project_index:websocket_events", #"{"event":{"p":1},"subscribers":[]}"#) == .deliver(event))
        #expect(translate("project_index:websocket_events", #"{"event":{"p":1},"subscribers":["me"]}"#, connected: ["me"]) == .deliver(event))
        #expect(translate("project_index:websocket_events", #"{"event":{"p":1},"subscribers":["other"]}"#) == .recordOnly(event))
        #expect(translate("project_index:websocket_events", #"{"subscribers":[]}"#) == .invalid("no \"event\" object"))
    }

    @Test func theBroadcastChannelCarriesAnyAllowedFrame() throws {
        #expect(
            translate(
                "hiveops:ws:broadcast",
                #"{"subscription":"alerts","type":"critical_alert","data":{"alerts":[{"id":1}]},"correlation_id":"c-9"}"#
            )
                == .deliver(try BroadcastEvent(type: "critical_alert", subscription: "alerts", data: ["alerts": [["id": 1]]], correlationId: "c-9"))
        )
        #expect(
            translate("hiveops:ws:broadcast", #"{"subscription":"weather","type":"agent_update","data":{}}"#)
                == .invalid("Unknown subscription: weather")
        )
        #expect(
            translate("hiveops:ws:broadcast", #"{"subscription":"agents","type":"pong","data":{}}"#)
                == .invalid("Message type pong cannot be broadcast")
        )
        #expect(
            translate("hiveops:ws:broadcast", #"{"subscription":"system","type":"agent_event","data":{}}"#)
                == .invalid("Message type agent_event goes to subscription agents")
        )
    }

    @Test func aBroadcastEnvelopeIsDecodedAsTheSchemaSaysAndAMismatchSaysWhere() throws {
        #expect(translate("hiveops:ws:broadcast", "{oops") == .invalid("envelope is not JSON"))
        #expect(translate("hiveops:ws:broadcast", "[1]") == .invalid("envelope must be an object"))
        #expect(translate("hiveops:ws:broadcast", #"{"subscription":"agents","data":{}}"#) == .invalid("envelope.type is required"))
        #expect(
            translate("hiveops:ws:broadcast", #"{"subscription":"agents","type":"agent_update","data":[]}"#)
                == .invalid("envelope.data must be an object")
        )
        #expect(
            translate("hiveops:ws:broadcast", #"{"subscription":7,"type":"agent_update","data":{}}"#)
                == .invalid("envelope.subscription must be a string")
        )
        // A correlation id that is not a string is kept with the envelope's extras, never echoed.
        #expect(
            translate("hiveops:ws:broadcast", #"{"subscription":"agents","type":"agent_update","data":{},"correlation_id":5}"#)
                == .deliver(try BroadcastEvent(type: "agent_update", subscription: "agents", data: [:], correlationId: nil))
        )
    }

    @Test func notJSONOrNotAnObjectIsInvalid() {
        #expect(translate("system_events", "{oops") == .invalid("not JSON"))
        #expect(translate("system_events", "[1]") == .invalid("not a JSON object"))
    }

    @Test func theRESTBroadcastPayloadRoundTrips() throws {
        let event = try BroadcastEvent(type: "task_update", subscription: "tasks", data: ["t": "x"], correlationId: "c-1")
        #expect(translate("hiveops:ws:broadcast", try RedisChannels.broadcastPayload(event)) == .deliver(event))
    }
}
