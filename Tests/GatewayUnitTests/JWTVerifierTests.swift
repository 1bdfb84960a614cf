import Crypto
import CryptoExtras
import Foundation
import GeneratedMessages
import HiveOpsGateway
import TestSupport
import Testing

/// The verifier against tokens signed here with real keys: each bad token gets its own error.
@Suite struct JWTVerifierTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let p256 = P256.Signing.PrivateKey()
    static let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    static func hs256(issuer: String? = nil, audience: String? = nil) throws -> JWTVerifier {
        try JWTVerifier(settings: .init(secret: TestTokens.secret, issuer: issuer, audience: audience, leeway: .seconds(30)))
    }

    static func claims(expiresIn: TimeInterval = 300, roles: [String]? = nil, extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        TestTokens.claims(expiresIn: expiresIn, now: now, roles: roles, extra: extra)
    }

    @Test func aGoodHS256TokenGivesItsClaims() async throws {
        let token = try TestTokens.token(Self.claims(roles: ["admin", "oncall"]))
        let claims = try await Self.hs256().verify(token, now: Self.now)
        #expect(claims.subject == "operator-1")
        #expect(claims.roles == ["admin", "oncall"])
        // exp plus the 30 s leeway.
        #expect(claims.expiresAt == Self.now.addingTimeInterval(330))
    }

    @Test func rolesMayBeASpaceSeparatedString() async throws {
        let token = try TestTokens.token(Self.claims(extra: ["roles": "viewer admin"]))
        #expect(try await Self.hs256().verify(token, now: Self.now).roles == ["viewer", "admin"])
    }

    @Test(arguments: [
        ("wrong secret", JWTError.badSignature),
        ("expired past the leeway", .expired),
        ("not valid yet past the leeway", .notYetValid),
        ("alg none", .algorithmNotAllowed("none", expected: "HS256")),
        ("alg HS512", .algorithmNotAllowed("HS512", expected: "HS256")),
        ("no exp", .missingExpiry),
        ("tampered payload", .badSignature),
    ])
    func badTokensAreRefusedWithTheirReason(_ name: String, _ expected: JWTError) async throws {
        let token: String
        switch name {
        case "wrong secret":
            token = try TestTokens.token(Self.claims(), signer: .hs256("another-secret-that-is-long-enough-0123"))
        case "expired past the leeway":
            token = try TestTokens.token(Self.claims(expiresIn: -31))
        case "not valid yet past the leeway":
            token = try TestTokens.token(Self.claims(extra: ["nbf": .integer(Int(Self.now.timeIntervalSince1970) + 31)]))
        case "alg none":
            token = try TestTokens.token(Self.claims(), signer: .raw(alg: "none") { _ in Data() })
        case "alg HS512":
            token = try TestTokens.token(Self.claims(), signer: .raw(alg: "HS512") { _ in Data(repeating: 1, count: 64) })
        case "no exp":
            var claims = Self.claims()
            claims["exp"] = nil
            token = try TestTokens.token(claims)
        case "tampered payload":
            let good = try TestTokens.token(Self.claims(roles: ["viewer"])).split(separator: ".")
            let forged = TestTokens.base64URL(try JSONEncoder().encode(Self.claims(roles: ["admin"])))
            token = "\(good[0]).\(forged).\(good[2])"
        default:
            Issue.record("unknown case \(name)")
            return
        }
        await #expect(throws: expected) { _ = try await Self.hs256().verify(token, now: Self.now) }
    }

    @Test func theLeewayCoversSmallClockSkew() async throws {
        let verifier = try Self.hs256()
        _ = try await verifier.verify(try TestTokens.token(Self.claims(expiresIn: -29)), now: Self.now)
        _ = try await verifier.verify(
            try TestTokens.token(Self.claims(extra: ["nbf": .integer(Int(Self.now.timeIntervalSince1970) + 29)])),
            now: Self.now
        )
    }

    @Test func issuerAndAudienceAreRequiredWhenSet() async throws {
        let verifier = try Self.hs256(issuer: "https://idp.hiveops", audience: "hiveops-gateway")
        let good = try TestTokens.token(Self.claims(extra: ["iss": "https://idp.hiveops", "aud": ["other", "hiveops-gateway"]]))
        _ = try await verifier.verify(good, now: Self.now)
        let single = try TestTokens.token(Self.claims(extra: ["iss": "https://idp.hiveops", "aud": "hiveops-gateway"]))
        _ = try await verifier.verify(single, now: Self.now)
        let wrongIssuer = try TestTokens.token(Self.claims(extra: ["iss": "https://evil", "aud": "hiveops-gateway"]))
        await #expect(throws: JWTError.wrongIssuer) { _ = try await verifier.verify(wrongIssuer, now: Self.now) }
        let wrongAudience = try TestTokens.token(Self.claims(extra: ["iss": "https://idp.hiveops", "aud": "billing"]))
        await #expect(throws: JWTError.wrongAudience) { _ = try await verifier.verify(wrongAudience, now: Self.now) }
        let noAudience = try TestTokens.token(Self.claims(extra: ["iss": "https://idp.hiveops"]))
        await #expect(throws: JWTError.wrongAudience) { _ = try await verifier.verify(noAudience, now: Self.now) }
    }

    @Test(arguments: [
        "only.two",
        "a.b.c.d",
        "e30.e30.!!!",
        "e30=.e30.AAAA",
        "bm90IGpzb24.e30.AAAA",
        "",
    ])
    func malformedTokensAreRefused(_ token: String) async throws {
        await #expect {
            _ = try await Self.hs256().verify(token, now: Self.now)
        } throws: { error in
            guard case .malformed = error as? JWTError else { return false }
            return true
        }
    }

    @Test func aSignedPayloadThatIsNotAnObjectIsMalformedAndAForgedOneABadSignature() async throws {
        let input = TestTokens.base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + TestTokens.base64URL(Data("[1]".utf8))
        let signature = try TestTokens.Signer.hs256(TestTokens.secret).sign(Data(input.utf8))
        await #expect(throws: JWTError.malformed("the payload is not a JSON object")) {
            _ = try await Self.hs256().verify(input + "." + TestTokens.base64URL(signature), now: Self.now)
        }
        // The signature is checked first: a forged token is a bad signature, whatever its payload.
        await #expect(throws: JWTError.badSignature) {
            _ = try await Self.hs256().verify(input + "." + TestTokens.base64URL(Data(repeating: 7, count: 32)), now: Self.now)
        }
    }

    @Test func oversizedTokensAreRefusedBeforeDecoding() async throws {
        let token = try TestTokens.token(Self.claims(extra: ["padding": .string(String(repeating: "x", count: 9_000))]))
        await #expect(throws: JWTError.tooLarge) { _ = try await Self.hs256().verify(token, now: Self.now) }
    }

    @Test func criticalHeaderExtensionsAreRefused() async throws {
        let token = try TestTokens.token(Self.claims(), header: ["crit": ["exp"]])
        await #expect(throws: JWTError.malformed("critical header extensions are not supported")) {
            _ = try await Self.hs256().verify(token, now: Self.now)
        }
    }

    @Test func es256TokensVerifyWithThePublicKey() async throws {
        let verifier = try JWTVerifier(settings: .init(publicKeyPEM: Self.p256.publicKey.pemRepresentation))
        #expect(verifier.algorithm == .es256)
        _ = try await verifier.verify(try TestTokens.token(Self.claims(), signer: .es256(Self.p256)), now: Self.now)
        let otherKey = try TestTokens.token(Self.claims(), signer: .es256(P256.Signing.PrivateKey()))
        await #expect(throws: JWTError.badSignature) { _ = try await verifier.verify(otherKey, now: Self.now) }
        // A DER-encoded signature is not the JWS form.
        let der = try TestTokens.token(Self.claims(), signer: .raw(alg: "ES256") { try! Self.p256.signature(for: $0).derRepresentation })
        await #expect(throws: JWTError.badSignature) { _ = try await verifier.verify(der, now: Self.now) }
    }

    @Test func rs256TokensVerifyAndAlgorithmConfusionIsRefused() async throws {
        let pem = Self.rsa.publicKey.pemRepresentation
        let verifier = try JWTVerifier(settings: .init(publicKeyPEM: pem))
        #expect(verifier.algorithm == .rs256)
        _ = try await verifier.verify(try TestTokens.token(Self.claims(), signer: .rs256(Self.rsa)), now: Self.now)
        // The classic attack: an HS256 token whose HMAC key is the server's public key.
        let confused = try TestTokens.token(Self.claims(), signer: .hs256(pem))
        await #expect(throws: JWTError.algorithmNotAllowed("HS256", expected: "RS256")) { _ = try await verifier.verify(confused, now: Self.now) }
        let es256 = try TestTokens.token(Self.claims(), signer: .es256(Self.p256))
        await #expect(throws: JWTError.algorithmNotAllowed("ES256", expected: "RS256")) { _ = try await verifier.verify(es256, now: Self.now) }
    }

    @Test func inconsistentKeySettingsAreRefused() {
        #expect(throws: AccessSettingsError.self) { try JWTVerifier(settings: .init()) }
        #expect(throws: AccessSettingsError("the JWT secret must be at least 32 bytes long")) { try JWTVerifier(settings: .init(secret: "short")) }
        #expect(throws: AccessSettingsError.self) {
            try JWTVerifier(settings: .init(secret: TestTokens.secret, publicKeyPEM: Self.p256.publicKey.pemRepresentation))
        }
        #expect(throws: AccessSettingsError.self) {
            try JWTVerifier(settings: .init(publicKeyPEM: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"))
        }
    }
}
