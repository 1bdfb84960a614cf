import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// Every accepted connection: HTTP/1 for the REST endpoints, or a WebSocket upgrade handed to a
/// `WebSocketConnectionHandler` in the channel's pipeline. An upgraded connection needs no task
/// after the handshake, and a refused upgrade gets the refusal's own status and body.
struct GatewayServerChannel: ServerChildChannel, HTTPChannelHandler {
    enum UpgradeResult: Sendable {
        /// The pipeline serves the WebSocket from here on.
        case webSocket
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, AccessRefusal?)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    struct Configuration: Sendable {
        var http1: HTTP1Channel.Configuration
        var maxFrameBytes: Int
        var handshakeTimeout: TimeAmount
    }

    let responder: HTTPChannelHandler.Responder
    let controller: WebSocketController
    let sessionDependencies: ConnectionSession.Dependencies
    let configuration: Configuration

    init(
        responder: @escaping HTTPChannelHandler.Responder,
        controller: WebSocketController,
        sessionDependencies: ConnectionSession.Dependencies,
        configuration: Configuration
    ) {
        self.responder = Self.redirectingUpgrades(responder)
        self.controller = controller
        self.sessionDependencies = sessionDependencies
        self.configuration = configuration
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // NIO keeps each channel's receive buffer for its next read: start small (an upgrade
            // request and small client messages), it grows when reads fill it.
            try channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: Self.receiveBuffers)
            // What the upgrade decided, from `shouldUpgrade` to the pipeline's next step; both run on the channel's loop.
            let decision = NIOLoopBoundBox<Decision>(.none, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: configuration.maxFrameBytes,
                shouldUpgrade: { [controller] channel, head in
                    let remote = channel.remoteAddress
                    // Decided in a task (a JWT is verified by an actor), recorded back on the loop.
                    return channel.eventLoop.makeFutureWithTask { () -> Result<WebSocketController.Acceptance, AccessRefusal> in
                        do throws(AccessRefusal) {
                            return .success(try await controller.upgrade(head, remote: remote, logger: logger))
                        } catch {
                            return .failure(error)
                        }
                    }
                    .map { outcome -> HTTPHeaders? in
                        switch outcome {
                        case .success(let acceptance):
                            decision.value = .upgrade(acceptance.role, acceptance.deflate)
                            return acceptance.headers
                        case .failure(let refusal):
                            decision.value = .refuse(refusal)
                            return nil
                        }
                    }
                },
                upgradePipelineHandler: { [sessionDependencies] channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard case .upgrade(let role, let deflate) = decision.value else { preconditionFailure("upgraded without a role") }
                        decision.value = .none
                        let handler = WebSocketConnectionHandler(role: role, deflate: deflate, dependencies: sessionDependencies, logger: logger)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return UpgradeResult.webSocket
                    }
                }
            )
            let serverUpgradeConfiguration = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { [configuration] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandlers(configuration.http1.additionalChannelHandlers())
                        try channel.pipeline.syncOperations.addHandler(
                            HTTPConnectionStateHandler(idleTimeout: configuration.http1.idleTimeout.map { .init($0) }, logger: logger)
                        )
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        switch decision.value {
                        case .none: return UpgradeResult.notUpgraded(asyncChannel)
                        case .refuse(let refusal): return UpgradeResult.refused(asyncChannel, refusal)
                        case .upgrade: return UpgradeResult.refused(asyncChannel, nil)
                        }
                    }
                }
            )
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: serverUpgradeConfiguration)
            pipeline.enablePipelining = false  // HTTP is pipelined by NIOAsyncChannel
            pipeline.enableErrorHandling = false  // Hummingbird's HTTP handling and the HandshakeGuard answer errors
            pipeline.enableResponseHeaderValidation = false  // Swift HTTP Types validate
            pipeline.decoderConfiguration.maxHeaderFieldSize = configuration.http1.httpDecoder.maxHeaderFieldSize
            pipeline.decoderConfiguration.maxHeaderListSize = configuration.http1.httpDecoder.maxHeaderListSize
            pipeline.decoderConfiguration.maxHeaderFieldCount = configuration.http1.httpDecoder.maxHeaderFieldCount
            let upgradeResult = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(HandshakeGuard(timeout: configuration.handshakeTimeout), position: .after(decoder))
            return Value(upgradeResult: upgradeResult, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .webSocket:
                return
            case .notUpgraded(let http1):
                await handleHTTP(asyncChannel: http1, logger: logger)
            case .refused(let http1, let refusal):
                await respond(to: http1, with: refusal ?? .badUpgrade, logger: logger)
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("Upgrade failed as input was closed")
        } catch {
            logger.debug("Connection ended before its request was handled", metadata: ["error": "\(error)"])
        }
    }

    /// A refused upgrade's answer: its status, headers and JSON body, then the connection closes.
    private func respond(to http1: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, with refusal: AccessRefusal, logger: Logger) async {
        do {
            try await http1.executeThenClose { _, outbound in
                let body = refusal.body
                var headers = refusal.headers
                headers[.contentLength] = "\(body.readableBytes)"
                headers[.connection] = "close"
                try await outbound.write(contentsOf: [.head(HTTPResponse(status: refusal.status, headerFields: headers)), .body(body), .end(nil)])
            }
        } catch {
            logger.trace("Cannot write a refusal", metadata: ["error": "\(error)"])
        }
    }

    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536)

    private enum Decision {
        case none
        case upgrade(WebSocketConnectionHandler.Role, PerMessageDeflate?)
        case refuse(AccessRefusal)
    }

    /// NIO's upgrade handler only upgrades a connection's first request: a later request asking for
    /// an upgrade is told to come again on a new connection (as hummingbird-websocket does).
    private static func redirectingUpgrades(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        struct RedirectedUpgrade: Error {}
        return { request, responseWriter, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                try await responder(request, responseWriter, channel)
                return
            }
            var location = request.uri.path
            if let query = request.uri.query { location += "?\(query)" }
            try await responseWriter.writeResponse(
                HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: location])
            )
            throw RedirectedUpgrade()
        }
    }
}
