package import GeneratedMessages
package import NIOWebSocket

/// Why and how the server closes a connection: the notice it sends last, the
/// close code after it, and whether queued frames go out first.
package struct CloseRequest: Sendable, Equatable {
    package var reason: DisconnectReason
    package var detail: String?
    package var code: WebSocketErrorCode
    package var reconnect: ReconnectHint
    /// Drop queued frames and send the notice at once (the client is not keeping up).
    package var dropsPendingFrames: Bool

    /// No inbound message for the idle timeout: close 1000, reconnect only if still wanted.
    package static func idleTimeout(after seconds: Int) -> Self {
        Self(
            reason: .idleTimeout,
            detail: "No message received for \(seconds) s",
            code: .normalClosure,
            reconnect: ReconnectHint(allowed: true),
            dropsPendingFrames: false
        )
    }

    /// Too many consecutive send failures: close 1013 (try again later).
    package static func backpressure(failures: Int) -> Self {
        Self(
            reason: .backpressure,
            detail: "\(failures) consecutive send failures",
            code: .init(codeNumber: 1013),
            reconnect: ReconnectHint(allowed: true, delayMs: 5_000),
            dropsPendingFrames: true
        )
    }

    /// The process is stopping: close 1001 (going away).
    package static let serverShutdown = Self(
        reason: .serverShutdown,
        detail: "The gateway is shutting down",
        code: .goingAway,
        reconnect: ReconnectHint(allowed: true, delayMs: 1_000),
        dropsPendingFrames: false
    )

    /// An operator disconnected the client: close 1000.
    package static func admin(detail: String?) -> Self {
        Self(reason: .admin, detail: detail, code: .normalClosure, reconnect: ReconnectHint(allowed: true, delayMs: 1_000), dropsPendingFrames: false)
    }

    /// The client kept flooding past the abuse window: close 1008 (policy violation), no reconnect.
    package static func rateLimitAbuse(window: Duration) -> Self {
        Self(
            reason: .rateLimitAbuse,
            detail: "Rate limit exceeded for \(window.components.seconds) s",
            code: .policyViolation,
            reconnect: ReconnectHint(allowed: false),
            dropsPendingFrames: true
        )
    }

    /// The connection's token expired: close 4401, so that the client refreshes its token and reconnects.
    /// Queued frames are dropped: the client is no longer entitled to them.
    package static let tokenExpired = Self(
        reason: .tokenExpired,
        detail: "The access token has expired; reconnect with a fresh one",
        code: .init(codeNumber: 4401),
        reconnect: ReconnectHint(allowed: true),
        dropsPendingFrames: true
    )

    /// A new connection took over this connection id: close 1000, do not reconnect.
    package static let replaced = Self(
        reason: .replaced,
        detail: "Another connection with the same connection_id replaced this one",
        code: .normalClosure,
        reconnect: ReconnectHint(allowed: false),
        dropsPendingFrames: false
    )
}
