package import Foundation
package import GeneratedMessages

/// What an admitted connection may do: the topics its roles forbid and when its credential expires.
package struct AccessGrant: Sendable, Equatable {
    package var subject: String?
    package var roles: Set<String>
    /// When the connection must end (`token_expired`, 4401); nil never.
    package var expiresAt: Date?
    /// Topics this connection may not subscribe to.
    package var forbiddenTopics: Set<Subscription>
    /// The subprotocol to answer with: a client that offered `access_token` must get it back, or browsers fail the handshake.
    package var selectedProtocol: String?

    /// No credential needed: every topic, no expiry.
    package static let unrestricted = Self(subject: nil, roles: [], expiresAt: nil, forbiddenTopics: [], selectedProtocol: nil)

    package func permits(_ topic: Subscription) -> Bool {
        !forbiddenTopics.contains(topic)
    }
}
