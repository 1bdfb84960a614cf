package import Foundation
import GeneratedMessages

/// Decides, without I/O, who may open a WebSocket and who may use the admin
/// endpoints: Origin first (a disallowed page learns nothing about credentials),
/// then the credential, then (in the controller) the topics.
package struct AccessPolicy: Sendable {
    package let settings: AccessSettings
    private let verifier: JWTVerifier?
    private let token: String?
    private let adminToken: String?
    /// Normalized allowed origins; nil allows any.
    private let allowedOrigins: Set<String>?

    /// Refuses an inconsistent configuration with a message naming the setting.
    package init(settings: AccessSettings) throws(AccessSettingsError) {
        self.settings = settings
        token = settings.token.map(\.trimmed).flatMap { $0.isEmpty ? nil : $0 }
        adminToken = settings.adminToken.map(\.trimmed).flatMap { $0.isEmpty ? nil : $0 }
        let jwtKeyConfigured = settings.jwt.secret != nil || settings.jwt.publicKeyPEM != nil
        if settings.mode == .jwt && (settings.required || jwtKeyConfigured) {
            verifier = try JWTVerifier(settings: settings.jwt)
        } else {
            verifier = nil
        }
        if settings.required && settings.mode == .token && token == nil {
            throw AccessSettingsError("WS_AUTH_REQUIRED is on in token mode but WS_AUTH_TOKEN is empty")
        }
        if !settings.topicRoles.isEmpty && !(settings.required && settings.mode == .jwt) {
            throw AccessSettingsError("WS_TOPIC_ROLES needs WS_AUTH_REQUIRED with WS_AUTH_MODE=jwt: roles come from the token")
        }
        var origins: Set<String> = []
        for origin in settings.allowedOrigins.map(\.trimmed) where !origin.isEmpty {
            if origin == "*" {
                origins = []
                break
            }
            guard let normalized = Self.normalizedOrigin(origin) else {
                throw AccessSettingsError("'\(origin)' in WS_ALLOWED_ORIGINS is not an origin: write scheme://host[:port], without a path")
            }
            origins.insert(normalized)
        }
        allowedOrigins = origins.isEmpty ? nil : origins
    }

    package var restrictsOrigins: Bool { allowedOrigins != nil }

    /// Checks the Origin header and the credential of an upgrade request.
    package func admitUpgrade(origin: String?, credential: UpgradeCredential, now: Date) async -> Result<AccessGrant, AccessRefusal> {
        // No Origin: not a browser, which could send any Origin it liked anyway.
        if let allowedOrigins, let origin, !allowedOrigins.contains(Self.normalizedOrigin(origin) ?? origin) {
            return .failure(.forbiddenOrigin(origin))
        }
        let selectedProtocol = credential.offeredSubprotocol ? UpgradeCredential.subprotocol : nil
        guard settings.required else {
            var grant = AccessGrant.unrestricted
            grant.selectedProtocol = selectedProtocol
            return .success(grant)
        }
        switch await authenticate(credential.token, now: now) {
        case .failure(let refusal):
            return .failure(refusal)
        case .success(let authenticated):
            var grant = authenticated.access
            grant.selectedProtocol = selectedProtocol
            return .success(grant)
        }
    }

    /// Checks an admin request's `Authorization` header: nil admits it.
    package func admitAdmin(authorization: String?, now: Date) async -> AccessRefusal? {
        guard settings.required else { return nil }
        let credential = authorization.map(UpgradeCredential.bearer) ?? .none
        switch await authenticate(credential, now: now) {
        case .failure(let refusal):
            return refusal
        case .success(let grant):
            return grant.isAdmin ? nil : .insufficientRole(settings.adminRole)
        }
    }

    private func authenticate(_ credential: UpgradeCredential.Token, now: Date) async -> Result<Grant, AccessRefusal> {
        let presented: String
        switch credential {
        case .none: return .failure(.missingCredential())
        case .malformed: return .failure(.invalidCredential("The Authorization header must be 'Bearer <token>'"))
        case .bearer(let value): presented = value
        }
        if let adminToken, ConstantTime.equals(presented, adminToken) {
            return .success(Grant(AccessGrant.unrestricted, isAdmin: true))
        }
        switch settings.mode {
        case .token:
            guard let token, ConstantTime.equals(presented, token) else { return .failure(.invalidCredential("Token is invalid")) }
            // One shared secret: its holder is the operator unless a separate admin token is set.
            return .success(Grant(AccessGrant.unrestricted, isAdmin: adminToken == nil))
        case .jwt:
            guard let verifier else { return .failure(.invalidCredential("Token is invalid")) }
            do {
                let claims = try await verifier.verify(presented, now: now)
                let forbidden = settings.topicRoles.filter { $0.value.isDisjoint(with: claims.roles) }.keys
                let grant = AccessGrant(
                    subject: claims.subject,
                    roles: claims.roles,
                    expiresAt: claims.expiresAt,
                    forbiddenTopics: Set(forbidden),
                    selectedProtocol: nil
                )
                return .success(Grant(grant, isAdmin: claims.roles.contains(settings.adminRole)))
            } catch {
                return .failure(.invalidCredential(error.description, expired: error == .expired))
            }
        }
    }

    /// `scheme://host[:port]`, lowercased, without a trailing slash; nil when it is not one.
    static func normalizedOrigin(_ text: String) -> String? {
        var origin = text.lowercased()
        if origin.hasSuffix("/") { origin.removeLast() }
        guard let separator = origin.range(of: "://"), !origin[..<separator.lowerBound].isEmpty else { return nil }
        let authority = origin[separator.upperBound...]
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("?"), !authority.contains("#") else { return nil }
        return origin
    }

    private struct Grant {
        var access: AccessGrant
        var isAdmin: Bool

        init(_ access: AccessGrant, isAdmin: Bool) {
            self.access = access
            self.isAdmin = isAdmin
        }
    }
}
