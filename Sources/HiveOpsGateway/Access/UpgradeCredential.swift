package import HTTPTypes

/// Where a client put its token. Browsers cannot set headers on a WebSocket,
/// so besides `Authorization: Bearer` the token may come as the
/// `access_token` query parameter or as the subprotocol entry after `access_token`.
package struct UpgradeCredential: Sendable, Equatable {
    package enum Token: Sendable, Equatable {
        case none
        /// An Authorization header that is not `Bearer <token>`.
        case malformed
        case bearer(String)
    }

    /// The subprotocol name that announces a token in the next entry.
    package static let subprotocol = "access_token"

    package var token: Token
    /// Whether the client offered the `access_token` subprotocol (it must be selected in the answer).
    package var offeredSubprotocol: Bool

    package init(headers: HTTPFields, queryToken: String?) {
        let protocols = headers[values: .secWebSocketProtocol]
            .flatMap { $0.split(separator: ",") }
            .map { String($0).trimmed }
        let marker = protocols.firstIndex(of: Self.subprotocol)
        offeredSubprotocol = marker != nil
        if let authorization = headers[.authorization] {
            token = Self.bearer(authorization)
        } else if let marker, marker + 1 < protocols.count, !protocols[marker + 1].isEmpty {
            token = .bearer(protocols[marker + 1])
        } else if let queryToken, !queryToken.isEmpty {
            token = .bearer(queryToken)
        } else {
            token = .none
        }
    }

    /// `Bearer <token>`, the scheme case-insensitive (RFC 7235 §2.1).
    static func bearer(_ authorization: String) -> Token {
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .malformed }
        let token = String(parts[1]).trimmed
        return token.isEmpty ? .malformed : .bearer(token)
    }
}
