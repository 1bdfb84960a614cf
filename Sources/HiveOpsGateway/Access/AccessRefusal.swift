import Foundation
package import Hummingbird
import NIOCore

/// A request the gateway turns away before any WebSocket upgrade, with the
/// HTTP status the client sees and a `{"detail", "error"}` JSON body.
package struct AccessRefusal: HTTPResponseError, Equatable, Sendable {
    /// Which counter a refusal goes to.
    package enum Kind: Sendable {
        case credential
        case origin
        case topic
        case role
        case capacity
        /// Not an access decision: no WebSocket at that path, or not an upgrade.
        case route
    }

    package var status: HTTPResponse.Status
    /// A machine-readable reason: `missing_token`, `invalid_token`, `token_expired`, `forbidden_origin`,
    /// `forbidden_subscription`, `insufficient_role`, `too_many_connections`, `not_found` or `upgrade_required`.
    package var error: String
    package var detail: String
    package var kind: Kind

    package static func missingCredential() -> Self {
        Self(
            status: .unauthorized,
            error: "missing_token",
            detail: "A credential is required: an Authorization: Bearer header, the access_token query parameter or the access_token subprotocol",
            kind: .credential
        )
    }

    package static func invalidCredential(_ detail: String, expired: Bool = false) -> Self {
        Self(status: .unauthorized, error: expired ? "token_expired" : "invalid_token", detail: detail, kind: .credential)
    }

    package static func forbiddenOrigin(_ origin: String) -> Self {
        Self(status: .forbidden, error: "forbidden_origin", detail: "Origin \(origin.prefix(256)) is not allowed", kind: .origin)
    }

    package static func forbiddenTopics(_ names: [String]) -> Self {
        Self(status: .forbidden, error: "forbidden_subscription", detail: ErrorText.forbiddenSubscriptions(names), kind: .topic)
    }

    package static func insufficientRole(_ role: String) -> Self {
        Self(status: .forbidden, error: "insufficient_role", detail: "This endpoint needs the \(role) role or the admin token", kind: .role)
    }

    package static func notFound(_ path: String) -> Self {
        Self(status: .notFound, error: "not_found", detail: "No WebSocket endpoint at \(path.prefix(256))", kind: .route)
    }

    /// An upgrade the WebSocket handshake could not complete.
    package static let badUpgrade = Self(
        status: .badRequest,
        error: "bad_request",
        detail: "The WebSocket upgrade could not be completed",
        kind: .route
    )

    package static func tooManyConnections(limit: Int) -> Self {
        Self(status: .serviceUnavailable, error: "too_many_connections", detail: "Too many connections (at most \(limit))", kind: .capacity)
    }

    var headers: HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        switch status {
        case .unauthorized:
            // RFC 6750 §3: a bearer challenge; the error attribute only when a token was presented.
            headers[.wwwAuthenticate] = error == "missing_token" ? "Bearer realm=\"hiveops\"" : "Bearer realm=\"hiveops\", error=\"invalid_token\""
        case .serviceUnavailable:
            headers[.retryAfter] = "5"
        default:
            break
        }
        return headers
    }

    var body: ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(["detail": detail, "error": error])) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    /// The whole HTTP/1.1 response, for a refused upgrade that is answered below the HTTP codec.
}
