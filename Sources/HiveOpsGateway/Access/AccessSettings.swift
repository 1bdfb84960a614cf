package import GeneratedMessages

/// Who may connect and who may administer: the HiveOps `WS_AUTH_*` settings,
/// the Origin allowlist and per-topic roles. Off by default for local development.
package struct AccessSettings: Sendable {
    package enum Mode: String, Sendable, CaseIterable {
        /// One shared secret (`WS_AUTH_TOKEN`).
        case token
        /// Signed JSON Web Tokens (HS256, ES256 or RS256).
        case jwt
    }

    package struct JWT: Sendable {
        /// HS256 shared secret, at least 32 bytes.
        package var secret: String?
        /// ES256 (P-256) or RS256 (RSA, at least 2048 bits) public key in PEM.
        package var publicKeyPEM: String?
        /// Required `iss`, when set.
        package var issuer: String?
        /// Required member of `aud`, when set.
        package var audience: String?
        /// Clock skew tolerated on `exp` and `nbf`.
        package var leeway: Duration
        /// The claim that lists a token's roles: an array of strings or a space-separated string.
        package var rolesClaim: String

        package init(
            secret: String? = nil,
            publicKeyPEM: String? = nil,
            issuer: String? = nil,
            audience: String? = nil,
            leeway: Duration = .seconds(30),
            rolesClaim: String = "roles"
        ) {
            self.secret = secret
            self.publicKeyPEM = publicKeyPEM
            self.issuer = issuer
            self.audience = audience
            self.leeway = leeway
            self.rolesClaim = rolesClaim
        }
    }

    /// Whether a WebSocket upgrade needs a credential; admin endpoints and metrics then need an admin one.
    package var required: Bool
    package var mode: Mode
    /// The shared token of `token` mode.
    package var token: String?
    /// A separate operator credential for the admin endpoints and metrics (either mode).
    package var adminToken: String?
    package var jwt: JWT
    /// The role a JWT needs for the admin endpoints and metrics.
    package var adminRole: String
    /// Topics that only some roles may subscribe to (JWT mode); a topic not listed is open to every client.
    package var topicRoles: [Subscription: Set<String>]
    /// Browser origins allowed to open a WebSocket (`scheme://host[:port]`); empty allows any, `*` too.
    package var allowedOrigins: [String]

    package init(
        required: Bool = false,
        mode: Mode = .token,
        token: String? = nil,
        adminToken: String? = nil,
        jwt: JWT = JWT(),
        adminRole: String = "admin",
        topicRoles: [Subscription: Set<String>] = [:],
        allowedOrigins: [String] = []
    ) {
        self.required = required
        self.mode = mode
        self.token = token
        self.adminToken = adminToken
        self.jwt = jwt
        self.adminRole = adminRole
        self.topicRoles = topicRoles
        self.allowedOrigins = allowedOrigins
    }

    /// Parses `WS_TOPIC_ROLES`: `topic=role|role,topic=role`, e.g. `alerts=admin|oncall`.
    package static func parseTopicRoles(_ text: String) throws(AccessSettingsError) -> [Subscription: Set<String>] {
        var result: [Subscription: Set<String>] = [:]
        for entry in text.split(separator: ",") where !entry.allSatisfy(\.isWhitespace) {
            let parts = entry.split(separator: "=", maxSplits: 1)
            let name = parts.first.map { String($0).trimmed } ?? ""
            let subscription = Subscription(rawValue: name)
            if case .unknown = subscription { throw AccessSettingsError("unknown topic '\(name)' in '\(entry)'") }
            let roles = parts.count == 2 ? parts[1].split(separator: "|").map { String($0).trimmed }.filter { !$0.isEmpty } : []
            guard !roles.isEmpty else { throw AccessSettingsError("topic '\(name)' lists no role; write \(name)=role|role") }
            result[subscription, default: []].formUnion(roles)
        }
        return result
    }
}

/// An inconsistent access configuration, refused at start-up.
package struct AccessSettingsError: Error, CustomStringConvertible, Equatable {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}

extension String {
    var trimmed: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
