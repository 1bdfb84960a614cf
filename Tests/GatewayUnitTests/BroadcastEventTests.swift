import GeneratedMessages
import HiveOpsGateway
import Testing

/// The broadcast rules come from the schema's `BroadcastMessage`, through its generated member table.
@Suite struct BroadcastEventTests {
    @Test func eachFixedTypeGoesToTheTopicItsSubscriptionConstantNames() throws {
        let fixed: [(String, String)] = [
            ("critical_alert", "alerts"), ("system_event", "system"), ("agent_event", "agents"), ("project_index_event", "project_index"),
        ]
        for (type, topic) in fixed {
            let data: [String: JSONValue] = type == "critical_alert" ? ["alerts": []] : [:]
            let event = try BroadcastEvent(type: type, subscription: topic, data: data, correlationId: nil)
            #expect(event.subscription.rawValue == topic)
            #expect(!event.isUpdate)
            let elsewhere = topic == "tasks" ? "agents" : "tasks"
            #expect(throws: BroadcastEvent.Invalid.wrongTopic(type: type, expected: Subscription(rawValue: topic))) {
                try BroadcastEvent(type: type, subscription: elsewhere, data: data, correlationId: nil)
            }
        }
        #expect(BroadcastMessage.Member.allCases.compactMap(\.tag).sorted() == fixed.map(\.0).sorted())
    }

    @Test func updateTypesAreExactlyThoseTheSchemaPatternMatches() throws {
        let pattern = try #require(BroadcastMessage.Member.update.tagPattern)
        let candidates = [
            "agent_update", "task_update", "system_update", "x_update", "_update", "update", "agent_updates", "Agent_update",
            "agent-update", "agent_update ", "a1_update", "__update", "a_update_update", "pong", "connection_established",
        ]
        for candidate in candidates {
            let event = try? BroadcastEvent(type: candidate, subscription: "tasks", data: [:], correlationId: nil)
            #expect((event != nil) == candidate.matchesPattern(pattern), "\(candidate)")
            #expect(event.map(\.isUpdate) ?? true, "\(candidate)")
        }
        #expect(throws: BroadcastEvent.Invalid.unknownType("pong")) {
            try BroadcastEvent(type: "pong", subscription: "system", data: [:], correlationId: nil)
        }
    }

    @Test func criticalAlertDataIsCheckedAgainstTheSchemaAndSaysWhere() throws {
        let cases: [([String: JSONValue], String)] = [
            ([:], "Invalid data: critical_alert data.alerts is required"),
            (["alerts": "disk full"], "Invalid data: critical_alert data.alerts must be an array"),
            (["alerts": [["id": 1], 7]], "Invalid data: critical_alert data.alerts[1] must be an object"),
        ]
        for (data, text) in cases {
            #expect(throws: (any Error).self) { try BroadcastEvent(type: "critical_alert", subscription: "alerts", data: data, correlationId: nil) }
            do {
                _ = try BroadcastEvent(type: "critical_alert", subscription: "alerts", data: data, correlationId: nil)
            } catch {
                #expect(error.description == text)
            }
        }
        let alert = try BroadcastEvent(
            type: "critical_alert",
            subscription: "alerts",
            data: ["alerts": [["id": "disk"]], "timestamp": "2026-12-03T08:00:00Z", "site": "eu"],
            correlationId: "c-1"
        )
        guard case .criticalAlert(let frame) = alert.message(correlationId: "c-1", timestamp: "t") else {
            Issue.record("not a critical_alert")
            return
        }
        #expect(frame.data.alerts == [["id": "disk"]])
        #expect(frame.data.timestamp == "2026-12-03T08:00:00Z")
        #expect(frame.data.additionalProperties == ["site": "eu"])
    }
}
