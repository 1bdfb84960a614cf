import Foundation
import NIOCore
import NIOHTTP1

/// Watches a new connection until its first request has arrived in full:
/// a client that sends nothing, or half a request, is disconnected after the
/// handshake timeout; a request the HTTP decoder rejects (headers over the
/// limit, bad syntax) gets 431 or 400 and the connection is closed. Without
/// it such connections stay open for good, since the upgrade pipeline has no
/// idle timeout and no error handler. It removes itself once the first request is complete.
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
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) { [self] in
            guard !finished else { return }
            finished = true
            endInput(context: loopBound.value)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        let part = unwrapInboundIn(data)
        context.fireChannelRead(data)
        if case .end = part {
            finished = true
            deadline?.cancel()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, !finished else {
            context.fireErrorCaught(error)
            return
        }
        finished = true
        deadline?.cancel()
        let (status, detail): (HTTPResponseStatus, String) =
            parserError == .headerOverflow
            ? (.requestHeaderFieldsTooLarge, "Request headers are too large")
            : (.badRequest, "Malformed HTTP request")
        let body = ByteBuffer(string: #"{"detail":"\#(detail)","error":"bad_request"}"#)
        var headers = HTTPHeaders([("content-type", "application/json; charset=utf-8"), ("connection", "close")])
        headers.add(name: "content-length", value: "\(body.readableBytes)")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [self] _ in
            endInput(context: loopBound.value)
        }
    }

    /// Tells the upgrade handler behind this one that no request will come (it then fails its
    /// negotiation quietly instead of reporting an error), and closes the connection.
    private func endInput(context: ChannelHandlerContext) {
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        context.close(promise: nil)
    }
}
