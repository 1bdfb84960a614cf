package import Crypto
package import CryptoExtras
package import Foundation
package import GeneratedMessages

/// Signs JSON Web Tokens for the tests, with the same primitives an identity provider uses.
package enum TestTokens {
    package static let secret = "hiveops-test-secret-0123456789-abcdef"

    package enum Signer {
        case hs256(String)
        case es256(P256.Signing.PrivateKey)
        case rs256(_RSA.Signing.PrivateKey)
        /// An arbitrary header `alg` with this signature (for algorithm-confusion and `none` cases).
        case raw(alg: String, sign: @Sendable (Data) -> Data)

        package var alg: String {
            switch self {
            case .hs256: "HS256"
            case .es256: "ES256"
            case .rs256: "RS256"
            case .raw(let alg, _): alg
            }
        }

        package func sign(_ input: Data) throws -> Data {
            switch self {
            case .hs256(let secret):
                Data(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: Data(secret.utf8))))
            case .es256(let key):
                try key.signature(for: input).rawRepresentation
            case .rs256(let key):
                try key.signature(for: input, padding: .insecurePKCS1v1_5).rawRepresentation
            case .raw(_, let sign):
                sign(input)
            }
        }
    }

    /// Claims valid for `expiresIn` from `now`, with optional roles.
    package static func claims(
        expiresIn: TimeInterval = 300,
        now: Date = Date(),
        roles: [String]? = nil,
        extra: [String: JSONValue] = [:]
    ) -> [String: JSONValue] {
        var claims: [String: JSONValue] = ["sub": "operator-1", "exp": .integer(Int(now.timeIntervalSince1970 + expiresIn))]
        if let roles { claims["roles"] = .array(roles.map { .string($0) }) }
        claims.merge(extra) { $1 }
        return claims
    }

    package static func token(
        _ claims: [String: JSONValue],
        signer: Signer = .hs256(secret),
        header extraHeader: [String: JSONValue] = [:]
    ) throws -> String {
        var header: [String: JSONValue] = ["alg": .string(signer.alg), "typ": "JWT"]
        header.merge(extraHeader) { $1 }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let input = base64URL(try encoder.encode(header)) + "." + base64URL(try encoder.encode(claims))
        return input + "." + base64URL(try signer.sign(Data(input.utf8)))
    }

    package static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
