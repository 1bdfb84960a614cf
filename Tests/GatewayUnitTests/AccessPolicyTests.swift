import Foundation
import GeneratedMessages
import HTTPTypes
import HiveOpsGateway
import TestSupport
import Testing

/// The access decisions as values: origins, credentials, roles, admin, and start-up validation.
@Suite struct AccessPolicyTests {
    static let now = Date()

    static func jwtPolicy(topicRoles: [Subscription: Set<String>] = [:], adminToken: String? = nil) throws -> AccessPolicy {
        try AccessPolicy(
            settings: .init(required: true, mode: .jwt, adminToken: adminToken, jwt: .init(secret: TestTokens.secret), topicRoles: topicRoles)
        )
    }

    static func credential(_ token: String?) -> UpgradeCredential {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        return UpgradeCredential(headers: headers, queryToken: nil)
    }

    @Test func theTokenComesFromTheHeaderTheSubprotocolOrTheQueryInThatOrder() {
        var headers = HTTPFields()
        headers[.secWebSocketProtocol] = "hiveops.v1, access_token, from-protocol"
        #expect(UpgradeCredential(headers: headers, queryToken: "from-query").token == .bearer("from-protocol"))
        #expect(UpgradeCredential(headers: headers, queryToken: nil).offeredSubprotocol)
        headers[.authorization] = "bearer from-header"
        #expect(UpgradeCredential(headers: headers, queryToken: "from-query").token == .bearer("from-header"))
        #expect(UpgradeCredential(headers: HTTPFields(), queryToken: "from-query").token == .bearer("from-query"))
        #expect(UpgradeCredential(headers: HTTPFields(), queryToken: nil).token == .none)
        #expect(UpgradeCredential(headers: [.authorization: "Basic dXNlcjpwYXNz"], queryToken: "q").token == .malformed)
        #expect(UpgradeCredential(headers: [.authorization: "Bearer "], queryToken: nil).token == .malformed)
    }

    @Test func tokenModeComparesTheSharedToken() async throws {
        let policy = try AccessPolicy(settings: .init(required: true, mode: .token, token: "s3cret-token"))
        #expect(try await policy.admitUpgrade(origin: nil, credential: Self.credential("s3cret-token"), now: Self.now).get() == .unrestricted)
        #expect(
            await policy.admitUpgrade(origin: nil, credential: Self.credential("s3cret-tokem"), now: Self.now)
                == .failure(.invalidCredential("Token is invalid"))
        )
        #expect(await policy.admitUpgrade(origin: nil, credential: Self.credential(nil), now: Self.now) == .failure(.missingCredential()))
        // Without a separate admin token, the shared token is the operator's.
        #expect(await policy.admitAdmin(authorization: "Bearer s3cret-token", now: Self.now) == nil)
        #expect(await policy.admitAdmin(authorization: nil, now: Self.now)?.status == .unauthorized)
    }

    @Test func aSeparateAdminTokenIsTheOnlyTokenForAdminEndpoints() async throws {
        let policy = try AccessPolicy(settings: .init(required: true, mode: .token, token: "client-token", adminToken: "operator-token"))
        #expect(await policy.admitAdmin(authorization: "Bearer operator-token", now: Self.now) == nil)
        #expect(await policy.admitAdmin(authorization: "Bearer client-token", now: Self.now) == .insufficientRole("admin"))
        #expect(await policy.admitAdmin(authorization: "Bearer nonsense", now: Self.now)?.status == .unauthorized)
    }

    @Test func jwtRolesDecideTopicsAndAdmin() async throws {
        let policy = try Self.jwtPolicy(topicRoles: [.alerts: ["admin", "oncall"], .system: ["admin"]])
        let viewer = try await policy.admitUpgrade(
            origin: nil,
            credential: Self.credential(TestTokens.token(TestTokens.claims(roles: ["viewer"]))),
            now: Self.now
        )
        .get()
        #expect(viewer.forbiddenTopics == [.alerts, .system])
        #expect(viewer.subject == "operator-1")
        #expect(viewer.expiresAt != nil)
        let oncall = try await policy.admitUpgrade(
            origin: nil,
            credential: Self.credential(TestTokens.token(TestTokens.claims(roles: ["oncall"]))),
            now: Self.now
        )
        .get()
        #expect(oncall.forbiddenTopics == [.system])
        #expect(
            await policy.admitAdmin(authorization: "Bearer " + (try TestTokens.token(TestTokens.claims(roles: ["oncall"]))), now: Self.now)
                == .insufficientRole("admin")
        )
        #expect(await policy.admitAdmin(authorization: "Bearer " + (try TestTokens.token(TestTokens.claims(roles: ["admin"]))), now: Self.now) == nil)
        let expired = try TestTokens.token(TestTokens.claims(expiresIn: -120))
        #expect(
            await policy.admitUpgrade(origin: nil, credential: Self.credential(expired), now: Self.now)
                == .failure(.invalidCredential("Token has expired", expired: true))
        )
    }

    @Test func originsAreMatchedExactlyAndBrowserlessClientsPass() async throws {
        let policy = try AccessPolicy(settings: .init(allowedOrigins: ["https://dashboard.hiveops.dev", "http://localhost:5173/"]))
        #expect(policy.restrictsOrigins)
        for allowed in ["https://dashboard.hiveops.dev", "HTTPS://Dashboard.HiveOps.dev", "http://localhost:5173"] {
            await #expect(throws: Never.self) {
                try await policy.admitUpgrade(origin: allowed, credential: Self.credential(nil), now: Self.now).get()
            }
        }
        for refused in ["https://evil.dev", "https://dashboard.hiveops.dev.evil.dev", "http://localhost:5174", "null"] {
            #expect(
                await policy.admitUpgrade(origin: refused, credential: Self.credential(nil), now: Self.now) == .failure(.forbiddenOrigin(refused))
            )
        }
        await #expect(throws: Never.self) { try await policy.admitUpgrade(origin: nil, credential: Self.credential(nil), now: Self.now).get() }
        #expect(try !AccessPolicy(settings: .init(allowedOrigins: ["*"])).restrictsOrigins)
    }

    @Test func theOriginIsCheckedBeforeTheCredential() async throws {
        let policy = try AccessPolicy(settings: .init(required: true, mode: .token, token: "t", allowedOrigins: ["https://a.dev"]))
        #expect(
            await policy.admitUpgrade(origin: "https://b.dev", credential: Self.credential(nil), now: Self.now)
                == .failure(.forbiddenOrigin("https://b.dev"))
        )
    }

    @Test func anOfferedAccessTokenSubprotocolIsSelectedEvenWithAuthOff() async throws {
        let policy = try AccessPolicy(settings: .init())
        let credential = UpgradeCredential(headers: [.secWebSocketProtocol: "access_token, abc"], queryToken: nil)
        #expect(try await policy.admitUpgrade(origin: nil, credential: credential, now: Self.now).get().selectedProtocol == "access_token")
    }

    @Test func inconsistentSettingsAreRefusedAtStartUp() {
        #expect(throws: AccessSettingsError("WS_AUTH_REQUIRED is on in token mode but WS_AUTH_TOKEN is empty")) {
            try AccessPolicy(settings: .init(required: true, mode: .token, token: "  "))
        }
        #expect(throws: AccessSettingsError.self) { try AccessPolicy(settings: .init(required: true, mode: .jwt)) }
        #expect(throws: AccessSettingsError.self) { try AccessPolicy(settings: .init(topicRoles: [.alerts: ["admin"]])) }
        #expect(throws: AccessSettingsError.self) { try AccessPolicy(settings: .init(allowedOrigins: ["dashboard.hiveops.dev"])) }
        #expect(throws: AccessSettingsError.self) { try AccessPolicy(settings: .init(allowedOrigins: ["https://a.dev/path"])) }
    }

    @Test func topicRolesParse() async throws {
        #expect(try AccessSettings.parseTopicRoles("alerts=admin|oncall, system=admin") == [.alerts: ["admin", "oncall"], .system: ["admin"]])
        #expect(throws: AccessSettingsError.self) { try AccessSettings.parseTopicRoles("weather=admin") }
        #expect(throws: AccessSettingsError.self) { try AccessSettings.parseTopicRoles("alerts=") }
    }
}
