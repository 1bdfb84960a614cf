package import Foundation
import GeneratedMessages
import JWTKit

/// Verifies compact JSON Web Tokens (RFC 7519) with the one algorithm its key
/// allows: the header's `alg` must name it exactly, so `none` and algorithm
/// confusion (an HS256 token signed with a public key) are refused.
package struct JWTVerifier: Sendable {
    package enum Algorithm: String, Sendable {
        case hs256 = "HS256"
        case es256 = "ES256"
        case rs256 = "RS256"
    }

    /// Larger tokens are refused before any decoding.
    package static let maxTokenBytes = 8_192

    package let algorithm: Algorithm
    /// jwt-kit's key collection holding our one key. It is an actor, filled by a task started in
    /// `init` (adding a key is actor-isolated); each verification awaits that task, finished long
    /// before the first token arrives.
    private let keys: Task<JWTKeyCollection, Never>
    private let settings: AccessSettings.JWT

    /// Reads the key from the settings: a secret (HS256) or a PEM public key (ES256 or RS256), not both.
    package init(settings: AccessSettings.JWT) throws(AccessSettingsError) {
        self.settings = settings
        switch (settings.secret, settings.publicKeyPEM) {
        case (.some, .some):
            throw AccessSettingsError("set either a JWT secret (HS256) or a JWT public key (ES256/RS256), not both")
        case (.none, .none):
            throw AccessSettingsError("JWT mode needs a key: WS_JWT_SECRET (HS256) or WS_JWT_PUBLIC_KEY_FILE (ES256/RS256)")
        case (.some(let secret), .none):
            // RFC 7518 §3.2: an HS256 key must be at least as long as the hash.
            guard secret.utf8.count >= 32 else { throw AccessSettingsError("the JWT secret must be at least 32 bytes long") }
            algorithm = .hs256
            let key = HMACKey(from: secret)
            keys = Task { await JWTKeyCollection().add(hmac: key, digestAlgorithm: .sha256) }
        case (.none, .some(let pem)):
            if let p256 = try? ES256PublicKey(pem: pem) {
                algorithm = .es256
                keys = Task { await JWTKeyCollection().add(ecdsa: p256) }
            } else if let rsa = try? Insecure.RSA.PublicKey(pem: pem) {
                // jwt-kit refuses RSA keys under 2048 bits.
                algorithm = .rs256
                keys = Task { await JWTKeyCollection().add(rsa: rsa, digestAlgorithm: .sha256) }
            } else {
                throw AccessSettingsError(
                    "the JWT public key is not a P-256 or RSA (2048 bits or more) public key in PEM (-----BEGIN PUBLIC KEY-----)"
                )
            }
        }
    }

    /// Checks the header (the pinned `alg`, no `crit`), has jwt-kit check the signature with our
    /// key, then checks `exp` (required), `nbf`, `iss` and `aud`, with the configured leeway. The
    /// claim checks are ours so that each refusal keeps its own reason and text.
    package func verify(_ token: some StringProtocol, now: Date) async throws(JWTError) -> JWTClaims {
        guard token.utf8.count <= Self.maxTokenBytes else { throw .tooLarge }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("expected three dot-separated parts") }
        guard let headerData = Self.base64URLDecode(parts[0]), Self.base64URLDecode(parts[1]) != nil,
            Self.base64URLDecode(parts[2]) != nil
        else { throw .malformed("a part is not base64url") }
        guard let header = try? JSONDecoder().decode(JSONValue.self, from: headerData), header.objectValue != nil else {
            throw .malformed("the header is not a JSON object")
        }
        guard let alg = header["alg"]?.stringValue else { throw .malformed("the header has no alg") }
        // jwt-kit uses the key it holds whatever the header says; the pin is here.
        guard alg == algorithm.rawValue else { throw .algorithmNotAllowed(alg, expected: algorithm.rawValue) }
        // RFC 7515 §4.1.11: extensions the recipient does not understand make the token invalid.
        guard header["crit"] == nil else { throw .malformed("critical header extensions are not supported") }

        // jwt-kit checks the signature, then decodes the payload: a payload it cannot decode comes
        // back as a malformed token; anything else it refuses is the signature.
        let claims: [String: JSONValue]
        do {
            claims = try await keys.value.verify(String(token), as: VerifiedPayload.self).claims
        } catch let error as JWTKit.JWTError where error.errorType == .malformedToken {
            throw .malformed("the payload is not a JSON object")
        } catch {
            throw .badSignature
        }
        let leeway = Double(settings.leeway.components.seconds) + Double(settings.leeway.components.attoseconds) / 1e18
        let nowSeconds = now.timeIntervalSince1970
        guard let expiry = claims["exp"] else { throw .missingExpiry }
        guard let exp = expiry.numericValue else { throw .malformed("exp is not a number") }
        guard nowSeconds < exp + leeway else { throw .expired }
        if let notBefore = claims["nbf"] {
            guard let nbf = notBefore.numericValue else { throw .malformed("nbf is not a number") }
            guard nowSeconds + leeway >= nbf else { throw .notYetValid }
        }
        if let issuer = settings.issuer, claims["iss"]?.stringValue != issuer { throw .wrongIssuer }
        if let audience = settings.audience {
            let audiences: [String] =
                switch claims["aud"] {
                case .string(let single): [single]
                case .array(let many): many.compactMap(\.stringValue)
                default: []
                }
            guard audiences.contains(audience) else { throw .wrongAudience }
        }
        let roles: Set<String> =
            switch claims[settings.rolesClaim] {
            case .string(let text): Set(text.split(separator: " ").map(String.init))
            case .array(let values): Set(values.compactMap(\.stringValue))
            default: []
            }
        return JWTClaims(
            subject: claims["sub"]?.stringValue,
            roles: roles,
            expiresAt: Date(timeIntervalSince1970: exp + leeway)
        )
    }

    /// Unpadded base64url (RFC 7515 §2); padding and other alphabets are refused.
    static func base64URLDecode(_ text: some StringProtocol) -> Data? {
        var base64 = ""
        base64.reserveCapacity(text.utf8.count + 3)
        for character in text.unicodeScalars {
            switch character {
            case "A"..."Z", "a"..."z", "0"..."9": base64.unicodeScalars.append(character)
            case "-": base64 += "+"
            case "_": base64 += "/"
            default: return nil
            }
        }
        if base64.utf8.count % 4 == 1 { return nil }
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}

/// What a verified token says about its holder.
package struct JWTClaims: Sendable, Equatable {
    package var subject: String?
    package var roles: Set<String>
    /// `exp` plus the leeway: the connection is closed at this time.
    package var expiresAt: Date
}

/// Why a token was refused; every case is a 401.
package enum JWTError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooLarge
    case malformed(String)
    case algorithmNotAllowed(String, expected: String)
    case badSignature
    case missingExpiry
    case expired
    case notYetValid
    case wrongIssuer
    case wrongAudience

    package var description: String {
        switch self {
        case .tooLarge: "The token is larger than \(JWTVerifier.maxTokenBytes) bytes"
        case .malformed(let why): "Malformed token: \(why)"
        case .algorithmNotAllowed(let alg, let expected): "Token algorithm '\(alg)' is not accepted (expected \(expected))"
        case .badSignature: "Token signature is invalid"
        case .missingExpiry: "Token has no exp claim"
        case .expired: "Token has expired"
        case .notYetValid: "Token is not valid yet (nbf)"
        case .wrongIssuer: "Token issuer is not accepted"
        case .wrongAudience: "Token audience is not accepted"
        }
    }
}

extension JSONValue {
    fileprivate var numericValue: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .number(let value): value
        default: nil
        }
    }
}

/// A payload as jwt-kit hands it over once the signature holds: every claim, as sent. Its own
/// `verify` checks nothing, because `JWTVerifier` checks the claims with its leeway and reasons.
private struct VerifiedPayload: JWTPayload {
    var claims: [String: JSONValue]

    init(from decoder: any Decoder) throws {
        claims = try [String: JSONValue](from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try claims.encode(to: encoder)
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
