import Foundation
import NIOCore
import NIOHTTP1

/// Watches a new connection until its first request has arrived in full:
/// a client that sends nothing, or half a request, is disconnected after the
/// handshake timeout; a request the HTTP decoder rejects (headers over the
/// limit, bad syntax) gets 431 or 400 and the connection is closed. Without
/// it such connections stay open for good, since the upgrade pipeline has no
/// idle timeout and no error handler. A WebSocket upgrade request without a valid
/// key, version or `Connection: upgrade` gets 400 or 426 (RFC 6455 §4.2.1, §4.4)
/// instead of a silent close. It removes itself once the first request is complete.
final class HandshakeGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    private var finished = false

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Weak: the scheduled task is reachable from `deadline`, so a strong capture would be a cycle
        // that keeps this handler, its context and the whole channel alive after the connection ends.
        // Isolated to the channel's loop, where the handler lives: no capture crosses threads.
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self, weak context] in
            guard let self, let context, !self.finished else { return }
            self.finished = true
            self.deadline = nil
            self.endInput(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelDeadline()
    }

    private func cancelDeadline() {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        let part = unwrapInboundIn(data)
        if case .head(let head) = part, let (status, detail) = Self.invalidUpgrade(head) {
            refuse(context: context, status: status, detail: detail)
            return
        }
        context.fireChannelRead(data)
        if case .end = part {
            finished = true
            cancelDeadline()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, !finished else {
            context.fireErrorCaught(error)
            return
        }
        if parserError == .headerOverflow {
            refuse(context: context, status: .requestHeaderFieldsTooLarge, detail: "Request headers are too large")
        } else {
            refuse(context: context, status: .badRequest, detail: "Malformed HTTP request")
        }
    }

    /// Why a WebSocket upgrade request cannot be honoured; nil for a sound one or a plain request.
    static func invalidUpgrade(_ head: HTTPRequestHead) -> (HTTPResponseStatus, String)? {
        guard head.headers["upgrade"].contains(where: { $0.lowercased().contains("websocket") }) else { return nil }
        guard head.method == .GET else { return (.badRequest, "A WebSocket upgrade must be a GET") }
        guard head.headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "upgrade" }) else {
            return (.badRequest, "A WebSocket upgrade needs Connection: Upgrade")
        }
        guard head.headers["sec-websocket-version"].first == "13" else {
            return (.upgradeRequired, "Only WebSocket version 13 is supported")
        }
        guard let key = head.headers["sec-websocket-key"].first, Data(base64Encoded: key)?.count == 16 else {
            return (.badRequest, "Sec-WebSocket-Key must be 16 bytes in base64")
        }
        return nil
    }

    /// Answers with `status` and a JSON body, then ends the connection.
    private func refuse(context: ChannelHandlerContext, status: HTTPResponseStatus, detail: String) {
        finished = true
        cancelDeadline()
        let body = ByteBuffer(string: #"{"detail":"\#(detail)","error":"bad_request"}"#)
        var headers = HTTPHeaders([("content-type", "application/json; charset=utf-8"), ("connection", "close")])
        headers.add(name: "content-length", value: "\(body.readableBytes)")
        if status == .upgradeRequired { headers.add(name: "sec-websocket-version", value: "13") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { [self] _ in
            endInput(context: context)
        }
    }

    /// Tells the upgrade handler behind this one that no request will come (it then fails its
    /// negotiation quietly instead of reporting an error), and closes the connection.
    private func endInput(context: ChannelHandlerContext) {
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        context.close(promise: nil)
    }
}

// A channel handler lives on its channel's event loop; it is never shared across threads.
@available(*, unavailable)
extension HandshakeGuard: Sendable {}
