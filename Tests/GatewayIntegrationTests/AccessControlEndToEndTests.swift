import Foundation
import GatewayClient
import GeneratedMessages
import HiveOpsGateway
import TestSupport
import Testing

/// Access control through real sockets: every refusal is an HTTP status the
/// client sees before any upgrade, counted; roles are enforced at connect and
/// on subscribe; an expiring token ends its connection with 4401.
@Suite struct AccessControlEndToEndTests {
    static let origin = "https://dashboard.hiveops.dev"

    static func jwtConfiguration(_ adjust: (inout GatewayConfiguration) -> Void = { _ in }) -> GatewayConfiguration {
        TestGateway.configuration {
            $0.access = AccessSettings(
                required: true,
                mode: .jwt,
                jwt: .init(secret: TestTokens.secret, audience: "hiveops-gateway", leeway: .zero),
                topicRoles: [.alerts: ["admin", "oncall"]],
                allowedOrigins: [origin]
            )
            adjust(&$0)
        }
    }

    static func token(
        roles: [String] = ["viewer"],
        expiresIn: TimeInterval = 300,
        extra: [String: JSONValue] = ["aud": "hiveops-gateway"]
    ) throws
        -> String
    {
        try TestTokens.token(TestTokens.claims(expiresIn: expiresIn, roles: roles, extra: extra))
    }

    static var admin: String { "Bearer " + (try! token(roles: ["admin"])) }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var query: String = ""
        var headers: [(String, String)]
        var status: Int
        var error: String
        var testDescription: String { name }
    }

    static func refusals() throws -> [Refusal] {
        let good = try token()
        return [
            Refusal(name: "no credential", headers: [], status: 401, error: "missing_token"),
            Refusal(name: "not a JWT", headers: [("Authorization", "Bearer nonsense")], status: 401, error: "invalid_token"),
            Refusal(name: "Basic scheme", headers: [("Authorization", "Basic dXNlcjpwYXNz")], status: 401, error: "invalid_token"),
            Refusal(name: "expired", headers: [("Authorization", "Bearer " + (try token(expiresIn: -5)))], status: 401, error: "token_expired"),
            Refusal(
                name: "not yet valid",
                headers: [
                    (
                        "Authorization",
                        "Bearer " + (try token(extra: ["aud": "hiveops-gateway", "nbf": .integer(Int(Date().timeIntervalSince1970) + 600)]))
                    )
                ],
                status: 401,
                error: "invalid_token"
            ),
            Refusal(
                name: "wrong signature",
                headers: [
                    (
                        "Authorization",
                        "Bearer "
                            + (try TestTokens.token(
                                TestTokens.claims(extra: ["aud": "hiveops-gateway"]),
                                signer: .hs256(String(repeating: "k", count: 40))
                            ))
                    )
                ],
                status: 401,
                error: "invalid_token"
            ),
            Refusal(
                name: "alg none",
                headers: [
                    (
                        "Authorization",
                        "Bearer "
                            + (try TestTokens.token(TestTokens.claims(extra: ["aud": "hiveops-gateway"]), signer: .raw(alg: "none") { _ in Data() }))
                    )
                ],
                status: 401,
                error: "invalid_token"
            ),
            Refusal(
                name: "wrong audience",
                headers: [("Authorization", "Bearer " + (try token(extra: ["aud": "billing"])))],
                status: 401,
                error: "invalid_token"
            ),
            Refusal(
                name: "oversized token",
                headers: [("Authorization", "Bearer " + String(repeating: "a", count: 9_000))],
                status: 401,
                error: "invalid_token"
            ),
            Refusal(
                name: "oversized header",
                headers: [("Authorization", "Bearer " + String(repeating: "a", count: 40_000))],
                status: 431,
                error: "bad_request"
            ),
            Refusal(name: "wrong token in the query", query: "access_token=nonsense", headers: [], status: 401, error: "invalid_token"),
            Refusal(
                name: "disallowed Origin",
                headers: [("Origin", "https://evil.dev"), ("Authorization", "Bearer " + good)],
                status: 403,
                error: "forbidden_origin"
            ),
            Refusal(
                name: "forbidden topic",
                query: "subscriptions=agents,alerts",
                headers: [("Authorization", "Bearer " + good)],
                status: 403,
                error: "forbidden_subscription"
            ),
        ]
    }

    @Test func everyBadCredentialGetsItsStatusBeforeTheUpgradeAndIsCounted() async throws {
        let refusals = try Self.refusals()
        try await TestGateway.with(Self.jwtConfiguration()) { gateway in
            for refusal in refusals {
                do {
                    let client = try await gateway.connect(.dashboard, query: refusal.query, headers: refusal.headers)
                    await client.abort()
                    Issue.record("\(refusal.name): upgraded")
                } catch WebSocketClient.ClientError.upgradeRefused(let status, let body) {
                    #expect(status == refusal.status, "\(refusal.name)")
                    let json = try JSONDecoder().decode(JSONValue.self, from: Data(body.utf8))
                    #expect(json["error"]?.stringValue == refusal.error, "\(refusal.name): \(body)")
                    #expect(json["detail"]?.stringValue?.isEmpty == false)
                }
            }
            #expect(gateway.application.manager.count == 0)
            // The 431 comes from the HTTP decoder, before any access check.
            let checked = refusals.filter { $0.status != 431 }
            #expect(try await gateway.metric("hiveops_ws_origin_denied_total", authorization: Self.admin) == 1)
            #expect(try await gateway.metric("hiveops_ws_auth_denied_total", authorization: Self.admin) == Double(checked.count - 1))
        }
    }

    @Test func aGoodTokenConnectsByHeaderQueryOrSubprotocol() async throws {
        try await TestGateway.with(Self.jwtConfiguration()) { gateway in
            let token = try Self.token()
            let byHeader = try await gateway.connect(.agents, headers: [("Authorization", "Bearer \(token)"), ("Origin", Self.origin)])
            guard case .connectionEstablished = try await byHeader.receiveMessage() else { throw TestFailure("header") }
            let byQuery = try await gateway.connect(.agents, query: "access_token=\(token)")
            guard case .connectionEstablished = try await byQuery.receiveMessage() else { throw TestFailure("query") }
            let byProtocol = try await gateway.connect(.agents, headers: [("Sec-WebSocket-Protocol", "access_token, \(token)")])
            guard case .connectionEstablished = try await byProtocol.receiveMessage() else { throw TestFailure("subprotocol") }
            // Browsers fail a handshake whose answer does not select one of the offered subprotocols.
            #expect(byProtocol.handshakeHeader("Sec-WebSocket-Protocol") == "access_token")
            #expect(byHeader.handshakeHeader("Sec-WebSocket-Protocol") == nil)
        }
    }

    @Test func rolesAreEnforcedAtConnectAndOnEverySubscribe() async throws {
        try await TestGateway.with(Self.jwtConfiguration()) { gateway in
            // /ws/system starts with system and alerts; a viewer gets system only.
            let viewer = try await gateway.connect(.system, headers: [("Authorization", "Bearer " + (try Self.token()))])
            guard case .connectionEstablished(let established) = try await viewer.receiveMessage() else { throw TestFailure("greeting") }
            #expect(established.subscriptions == [.system])
            try await viewer.send(.subscribe(Subscribe(subscriptions: [.alerts, .tasks], correlationId: "sub-1")))
            guard case .error(let error) = try await viewer.receiveMessage() else { throw TestFailure("error frame") }
            #expect(error.message == "Forbidden subscription(s): alerts")
            #expect(error.code == .forbiddenSubscription)
            #expect(error.correlationId == "sub-1")
            guard case .subscriptionUpdated(let updated) = try await viewer.receiveMessage() else { throw TestFailure("subscription_updated") }
            #expect(updated.subscriptions == [.system, .tasks])

            let oncall = try await gateway.connect(.system, headers: [("Authorization", "Bearer " + (try Self.token(roles: ["oncall"])))])
            guard case .connectionEstablished(let granted) = try await oncall.receiveMessage() else { throw TestFailure("greeting") }
            #expect(granted.subscriptions == [.alerts, .system])

            let alert = try await gateway.request(
                "POST",
                "/api/dashboard/websocket/broadcast?subscription=alerts&message_type=critical_alert",
                body: #"{"alerts":[{"id":"al-1"}]}"#,
                headers: ["Authorization": Self.admin]
            )
            #expect(try alert.json()["clients_reached"] == 1)
            guard case .criticalAlert = try await oncall.receiveMessage() else { throw TestFailure("the on-call client gets the alert") }
            // The viewer's next frame is the system event published after the alert: it never got the alert.
            _ = try await gateway.request(
                "POST",
                "/api/dashboard/websocket/broadcast?subscription=system&message_type=system_update",
                body: #"{"n":1}"#,
                headers: ["Authorization": Self.admin]
            )
            guard case .update(let update) = try await viewer.receiveMessage() else { throw TestFailure("system_update") }
            #expect(update.type == "system_update")
        }
    }

    @Test func anExpiringTokenEndsItsConnectionWith4401() async throws {
        try await TestGateway.with(Self.jwtConfiguration()) { gateway in
            let client = try await gateway.connect(.agents, headers: [("Authorization", "Bearer " + (try Self.token(expiresIn: 2)))])
            guard case .connectionEstablished = try await client.receiveMessage() else { throw TestFailure("greeting") }
            guard case .disconnectNotice(let notice) = try await client.receiveMessage(timeout: .seconds(5)) else { throw TestFailure("notice") }
            #expect(notice.reason == .tokenExpired)
            #expect(notice.reconnect?.allowed == true)
            #expect(try await client.receive() == .close(code: 4401, reason: "token_expired"))
            #expect(try await gateway.metric("hiveops_ws_token_expired_disconnects_total", authorization: Self.admin) == 1)
        }
    }

    @Test func onlyTheSameSubjectTakesOverAConnectionId() async throws {
        try await TestGateway.with(Self.jwtConfiguration()) { gateway in
            func token(_ subject: String) throws -> String {
                "Bearer " + (try TestTokens.token(TestTokens.claims(extra: ["aud": "hiveops-gateway", "sub": .string(subject)])))
            }
            let first = try await gateway.connect(.tasks, query: "connection_id=desk-1", headers: [("Authorization", try token("alice"))])
            guard case .connectionEstablished(let alice) = try await first.receiveMessage() else { throw TestFailure("greeting") }
            #expect(alice.connectionId == "desk-1")
            let intruder = try await gateway.connect(.tasks, query: "connection_id=desk-1", headers: [("Authorization", try token("mallory"))])
            guard case .connectionEstablished(let mallory) = try await intruder.receiveMessage() else { throw TestFailure("greeting") }
            #expect(mallory.connectionId != "desk-1")
            #expect(gateway.application.manager.count == 2)
            let again = try await gateway.connect(.tasks, query: "connection_id=desk-1", headers: [("Authorization", try token("alice"))])
            guard case .connectionEstablished(let replaced) = try await again.receiveMessage() else { throw TestFailure("greeting") }
            #expect(replaced.connectionId == "desk-1")
            guard case .disconnectNotice(let notice) = try await first.receiveMessage() else { throw TestFailure("the old one is replaced") }
            #expect(notice.reason == .replaced)
        }
    }

    @Test func operatorEndpointsNeedAnAdminCredential() async throws {
        try await TestGateway.with(Self.jwtConfiguration()) { gateway in
            let viewer = "Bearer " + (try Self.token())
            let protected = [
                ("POST", "/api/dashboard/websocket/broadcast?subscription=system&message_type=system_update"),
                ("POST", "/api/dashboard/websocket/disconnect/nobody"),
                ("GET", "/api/dashboard/websocket/stats"),
                ("GET", "/api/dashboard/metrics/websockets"),
                ("GET", "/metrics"),
            ]
            for (method, path) in protected {
                let body = method == "POST" ? "{}" : nil
                let anonymous = try await gateway.request(method, path, body: body)
                #expect(anonymous.status == 401, "\(path)")
                #expect(try anonymous.json()["error"] == "missing_token")
                let forbidden = try await gateway.request(method, path, body: body, headers: ["Authorization": viewer])
                #expect(forbidden.status == 403, "\(path)")
                #expect(try forbidden.json()["error"] == "insufficient_role")
                let allowed = try await gateway.request(method, path, body: body, headers: ["Authorization": Self.admin])
                #expect(allowed.status != 401 && allowed.status != 403, "\(path)")
            }
            for path in ["/health", "/api/dashboard/websocket/health", "/api/dashboard/websocket/contract"] {
                #expect(try await gateway.request("GET", path).status == 200, "\(path)")
            }
            let limits = try await gateway.request("GET", "/api/dashboard/websocket/limits").json()
            #expect(limits["ws_auth_required"] == true)
            #expect(limits["ws_allowed_origins_configured"] == true)
            #expect(try await gateway.metric("hiveops_ws_auth_denied_total", authorization: Self.admin) == Double(protected.count * 2))
        }
    }

    @Test func tokenModeTakesTheSharedTokenAndTheAdminTokenSeparately() async throws {
        let configuration = TestGateway.configuration {
            $0.access = AccessSettings(required: true, mode: .token, token: "client-token-123", adminToken: "operator-token-456")
        }
        try await TestGateway.with(configuration) { gateway in
            let client = try await gateway.connect(.tasks, query: "access_token=client-token-123")
            guard case .connectionEstablished = try await client.receiveMessage() else { throw TestFailure("greeting") }
            await #expect(throws: WebSocketClient.ClientError.self) { _ = try await gateway.connect(.tasks, query: "access_token=client-token-124") }
            let stats = try await gateway.request("GET", "/api/dashboard/websocket/stats", headers: ["Authorization": "Bearer client-token-123"])
            #expect(stats.status == 403)
            let asOperator = try await gateway.request(
                "GET",
                "/api/dashboard/websocket/stats",
                headers: ["Authorization": "Bearer operator-token-456"]
            )
            #expect(try asOperator.json()["total_connections"] == 1)
        }
    }
}
