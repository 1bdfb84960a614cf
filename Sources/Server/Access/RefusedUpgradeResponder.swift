import NIOCore

/// hummingbird-websocket answers every refused upgrade with an empty `400 Bad Request`
/// and closes the connection; the route's status is lost. Put at the head of the
/// pipeline of a refused upgrade, this handler writes the refusal's own response
/// (401, 403 or 503 with its JSON body) in place of those bytes.
final class RefusedUpgradeResponder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private var response: ByteBuffer?

    private init(response: ByteBuffer) {
        self.response = response
    }

    /// Installs the responder on the channel's event loop; call before the upgrade is refused.
    static func install(_ refusal: AccessRefusal, on channel: any Channel) async throws {
        let bytes = refusal.http1Bytes
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(RefusedUpgradeResponder(response: bytes), position: .first)
        }.get()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The first write of the 400 carries the refusal; the rest of the 400 is dropped.
        guard let response else {
            promise?.succeed()
            return
        }
        self.response = nil
        context.write(wrapOutboundOut(.byteBuffer(response)), promise: promise)
    }
}
