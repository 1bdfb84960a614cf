public import Foundation
public import GeneratedMessages

/// What an admitted connection may do: the topics its roles forbid and when its credential expires.
public struct AccessGrant: Sendable, Equatable {
    public var subject: String?
    public var roles: Set<String>
    /// When the connection must end (`token_expired`, 4401); nil never.
    public var expiresAt: Date?
    /// Topics this connection may not subscribe to.
    public var forbiddenTopics: Set<Subscription>
    /// The subprotocol to answer with: a client that offered `access_token` must get it back, or browsers fail the handshake.
    public var selectedProtocol: String?

    /// No credential needed: every topic, no expiry.
    public static let unrestricted = Self(subject: nil, roles: [], expiresAt: nil, forbiddenTopics: [], selectedProtocol: nil)

    public func permits(_ topic: Subscription) -> Bool {
        !forbiddenTopics.contains(topic)
    }
}
