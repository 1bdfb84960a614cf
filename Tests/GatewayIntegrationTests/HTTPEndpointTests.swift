import Foundation
import GatewayClient
import GeneratedMessages
import HiveOpsGateway
import TestSupport
import Testing

/// The REST endpoints and the metrics, end to end.
@Suite struct HTTPEndpointTests {
    static let counters = [
        "messages_sent_total", "messages_send_failures_total", "messages_received_total", "messages_dropped_rate_limit_total",
        "errors_sent_total", "connections_total", "disconnections_total", "backpressure_disconnects_total", "idle_disconnects_total",
        "auth_denied_total", "origin_denied_total", "bytes_sent_total", "bytes_received_total",
    ]

    @Test func metricsEndpointHasEveryFamilyWithHelpAndType() async throws {
        try await TestGateway.with { gateway in
            let result = try await gateway.request("GET", "/api/dashboard/metrics/websockets")
            #expect(result.status == 200)
            #expect(result.contentType?.hasPrefix("text/plain; version=0.0.4") == true)
            for counter in Self.counters {
                let name = "hiveops_ws_" + counter
                #expect(result.text.contains("# HELP \(name) "), "\(name) help")
                #expect(result.text.contains("# TYPE \(name) counter"), "\(name) type")
            }
            #expect(result.text.contains("# TYPE hiveops_ws_connections gauge"))
            #expect(result.text.contains(#"hiveops_ws_subscribers{subscription="agents"} 0"#))
            #expect(result.text.contains("# TYPE hiveops_ws_broadcast_fanout_duration_seconds histogram"))
            #expect(!result.text.contains("hiveops_redis_"), "only the WebSocket families")
            let whole = try await gateway.request("GET", "/metrics")
            #expect(whole.text.contains("hiveops_redis_connected"))
        }
    }

    @Test func metricsJSONHasTheSameNumbers() async throws {
        try await TestGateway.with { gateway in
            let (client, _) = try await gateway.connectAndGreet(.system)
            try await client.send(.ping(Ping()))
            _ = try await client.receiveMessage()
            let byAccept = try await gateway.request("GET", "/api/dashboard/metrics/websockets", headers: ["Accept": "application/json"])
            #expect(byAccept.contentType?.hasPrefix("application/json") == true)
            let json = try byAccept.json()
            let text = try await gateway.request("GET", "/api/dashboard/metrics/websockets").text
            for counter in Self.counters {
                let name = "hiveops_ws_" + counter
                let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
                let textValue = line.flatMap { Double($0.split(separator: " ").last!) }
                let jsonValue: Double? =
                    switch json["metrics"]?[name] {
                    case .integer(let value): Double(value)
                    case .number(let value): value
                    default: nil
                    }
                #expect(textValue != nil && textValue == jsonValue, "\(name)")
            }
            #expect(try await gateway.metric("hiveops_ws_messages_received_total") == 1)
            #expect(try await gateway.metric("hiveops_ws_connections") == 1)
            #expect(try await gateway.metric("hiveops_ws_connections_total") == 1)
        }
    }

    @Test func broadcastReachesEverySubscriberWithTheSameBytes() async throws {
        try await TestGateway.with { gateway in
            var clients: [WebSocketClient] = []
            for _ in 0..<5 { clients.append(try await gateway.connectAndGreet(.agents).0) }
            let (bystander, _) = try await gateway.connectAndGreet(.tasks, query: "")
            try await bystander.send(text: #"{"type":"unsubscribe","subscriptions":["agents"]}"#)
            _ = try await bystander.receiveMessage()
            let sentBefore = try await gateway.metric("hiveops_ws_messages_sent_total")

            let result = try await gateway.request(
                "POST",
                "/api/dashboard/websocket/broadcast?subscription=agents&message_type=agent_update",
                body: #"{"agents":[{"id":"a-7","status":"busy"}]}"#,
                headers: ["X-Correlation-ID": "evt-42"]
            )
            #expect(result.status == 200)
            let body = try result.json()
            #expect(body["success"] == true)
            #expect(body["clients_reached"] == 5)
            #expect(body["nodes_reached"] == 1, "in-process: this node")
            #expect(body["correlation_id"] == "evt-42")

            var texts: Set<String> = []
            for client in clients {
                let text = try await client.receiveText()
                texts.insert(text)
                guard case .update(let update) = try JSONDecoder().decode(ServerMessage.self, from: Data(text.utf8)) else {
                    throw TestFailure("agent_update")
                }
                #expect(update.type == "agent_update")
                #expect(update.subscription == .agents)
                #expect(update.correlationId == "evt-42")
            }
            #expect(texts.count == 1, "one serialization for every recipient")
            await #expect(throws: WebSocketClient.ClientError.timedOut) { try await bystander.receive(timeout: .milliseconds(200)) }
            #expect(try await gateway.metric("hiveops_ws_messages_sent_total") == sentBefore + 5)
            #expect(try await gateway.metric("hiveops_ws_last_broadcast_fanout") == 5)
        }
    }

    @Test func broadcastRejectsUnknownTopicsAndTypes() async throws {
        try await TestGateway.with { gateway in
            let topic = try await gateway.request(
                "POST",
                "/api/dashboard/websocket/broadcast?subscription=weather&message_type=agent_update",
                body: "{}"
            )
            #expect(topic.status == 400)
            #expect(try topic.json()["valid_subscriptions"] == ["agents", "coordination", "tasks", "system", "alerts", "project_index"])
            let type = try await gateway.request("POST", "/api/dashboard/websocket/broadcast?subscription=agents&message_type=pong", body: "{}")
            #expect(type.status == 400)
            let alert = try await gateway.request(
                "POST",
                "/api/dashboard/websocket/broadcast?subscription=alerts&message_type=critical_alert",
                body: #"{"alerts":"none"}"#
            )
            #expect(alert.status == 400)
            let body = try await gateway.request(
                "POST",
                "/api/dashboard/websocket/broadcast?subscription=agents&message_type=agent_update",
                body: "[1]"
            )
            #expect(body.status == 400)
        }
    }

    @Test func criticalAlertBroadcast() async throws {
        try await TestGateway.with { gateway in
            let (client, _) = try await gateway.connectAndGreet(.system)
            let result = try await gateway.request(
                "POST",
                "/api/dashboard/websocket/broadcast?subscription=alerts&message_type=critical_alert",
                body: #"{"alerts":[{"id":"al-1","severity":"critical"}],"source":"watchdog"}"#
            )
            #expect(try result.json()["clients_reached"] == 1)
            guard case .criticalAlert(let alert) = try await client.receiveMessage() else { throw TestFailure("critical_alert") }
            #expect(alert.data.alerts == [["id": "al-1", "severity": "critical"]])
            #expect(alert.data.additionalProperties["source"] == "watchdog")
        }
    }

    @Test func limitsContractHealthAndStats() async throws {
        try await TestGateway.with(TestGateway.configuration { $0.rateLimit.burst = 7 }) { gateway in
            let limits = try await gateway.request("GET", "/api/dashboard/websocket/limits").json()
            #expect(limits["rate_limit_tokens_per_second"] == 20)
            #expect(limits["rate_limit_burst_capacity"] == 7)
            #expect(limits["rate_limit_notify_cooldown_seconds"] == 5)
            #expect(limits["max_inbound_message_bytes"] == 65_536)
            #expect(limits["max_subscriptions_per_connection"] == 10)
            #expect(limits["backpressure_disconnect_threshold"] == 5)
            #expect(limits["outbound_queue_max_bytes"] == 4_194_304)
            #expect(limits["outbound_queue_max_frames"] == 10_000)
            #expect(limits["write_deadline_seconds"] == 5)
            #expect(limits["permessage_deflate_enabled"] == true)
            #expect(limits["compression_threshold_bytes"] == 256)
            #expect(limits["idle_disconnect_seconds"] == 600)
            #expect(limits["ws_auth_required"] == false)
            #expect(limits["ws_allowed_origins_configured"] == false)
            #expect(limits["history_size"] == 1_000)
            #expect(limits["history_max_age_seconds"] == 600)
            #expect(limits["history_store"] == "memory")
            #expect(limits["contract_version"] == "1.2.0")
            #expect(limits["supported_versions"] == ["1.0.0", "1.1.0", "1.2.0"])
            #expect(limits["timestamp"]?.stringValue?.hasSuffix("Z") == true)

            let contract = try await gateway.request("GET", "/api/dashboard/websocket/contract").json()
            #expect(contract["current_version"] == "1.2.0")
            #expect(contract["deprecation_policy"]?["policy"] == "no_breaking_changes_without_minor_bump")

            let health = try await gateway.request("GET", "/health")
            #expect(health.status == 200)
            let report = try health.json()
            #expect(report["status"] == "healthy")
            #expect(report["ws_contract_version"] == "1.2.0")
            #expect(report["components"]?["broker"]?["status"] == "healthy")
            #expect(report["summary"] == ["healthy": 2, "unhealthy": 0, "total": 2])

            let (_, established) = try await gateway.connectAndGreet(.tasks)
            let stats = try await gateway.request("GET", "/api/dashboard/websocket/stats").json()
            #expect(stats["total_connections"] == 1)
            #expect(stats["oldest_connection"]?["connection_id"]?.stringValue == established.connectionId)
            #expect(stats["subscription_counts"]?["tasks"] == 1)
        }
    }
}
