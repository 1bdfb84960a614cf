import Foundation
public import GeneratedMessages
public import NIOCore
import NIOFoundationEssentialsCompat
public import NIOPosix
public import NIOWebSocket
import Synchronization

/// A lean WebSocket client on SwiftNIO alone (no TLS, no HTTP client stack),
/// for the tests and the load generator. A background task owns the channel
/// and files every received frame in a mailbox; `receive` takes them out with
/// a deadline, so a test never hangs.
public final class WebSocketClient: Sendable {
    public enum Frame: Sendable, Equatable {
        case text(String)
        case binary(ByteBuffer)
        /// A close frame: its code (nil when it carried none) and reason.
        case close(code: UInt16?, reason: String)
        /// The server closed the TCP connection (after a close frame, or without one).
        case disconnected
    }

    public enum ClientError: Error, Equatable {
        /// The server answered the upgrade request with this HTTP status instead of 101.
        case upgradeRefused(status: Int, body: String)
        case timedOut
        /// `receiveMessage` got something other than a text frame.
        case unexpected(Frame)
    }

    private let mailbox: Mailbox<Frame>
    private let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    private let channel: any Channel
    private let pump: Task<Void, Never>
    private let readGate: ReadGate
    /// The `101` response's status line and headers.
    public let handshakeResponseHead: String

    private init(
        handshakeResponseHead: String,
        channel: any Channel,
        outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
        mailbox: Mailbox<Frame>,
        pump: Task<Void, Never>,
        readGate: ReadGate
    ) {
        self.channel = channel
        self.outbound = outbound
        self.mailbox = mailbox
        self.pump = pump
        self.readGate = readGate
        self.handshakeResponseHead = handshakeResponseHead
    }

    /// A header of the `101` response (the first, if repeated), by case-insensitive name.
    public func handshakeHeader(_ name: String) -> String? {
        for line in handshakeResponseHead.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == name.lowercased() {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// Connects and upgrades. `path` includes any query string.
    public static func connect(
        host: String = "127.0.0.1",
        port: Int,
        path: String,
        headers: [(String, String)] = [],
        localAddress: String? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        maxFrameSize: Int = 1 << 24
    ) async throws -> WebSocketClient {
        var bootstrap = ClientBootstrap(group: group)
        if let localAddress {
            bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: localAddress, port: 0))
        }
        let eventLoop = group.next()
        typealias Handshake = HandshakeHandler<NIOAsyncChannel<WebSocketFrame, WebSocketFrame>>
        let handshake = eventLoop.makePromise(of: Handshake.Result.self)
        let channel = try await bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    Handshake(host: host, port: port, path: path, headers: headers, maxFrameSize: maxFrameSize, promise: handshake) { channel in
                        try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel)
                    }
                )
            }
        }.connect(host: host, port: port).get()
        channel.closeFuture.whenComplete { _ in handshake.fail(ChannelError.eof) }
        let asyncChannel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>
        let responseHead: String
        switch try await handshake.futureResult.get() {
        case .upgraded(let upgraded, let head):
            asyncChannel = upgraded
            responseHead = head
        case .refused(let status, let body): throw ClientError.upgradeRefused(status: status, body: body)
        }

        let mailbox = Mailbox<Frame>()
        let readGate = ReadGate()
        let (outboundStream, outboundContinuation) = AsyncStream<NIOAsyncChannelOutboundWriter<WebSocketFrame>>.makeStream()
        let pump = Task {
            do {
                try await asyncChannel.executeThenClose { inbound, outbound in
                    outboundContinuation.yield(outbound)
                    outboundContinuation.finish()
                    for try await frame in inbound {
                        await readGate.waitUntilOpen()
                        switch frame.opcode {
                        case .text:
                            mailbox.post(.text(String(buffer: frame.unmaskedData)))
                        case .binary:
                            mailbox.post(.binary(frame.unmaskedData))
                        case .connectionClose:
                            var data = frame.unmaskedData
                            let code = data.readInteger(as: UInt16.self)
                            mailbox.post(.close(code: code, reason: data.readString(length: data.readableBytes) ?? ""))
                        case .ping:
                            try await outbound.write(ClientWire.pong(answering: frame))
                        default:
                            break
                        }
                    }
                }
            } catch {
                // The connection ended; `disconnected` below tells the reader.
            }
            outboundContinuation.finish()
            mailbox.post(.disconnected)
        }
        var iterator = outboundStream.makeAsyncIterator()
        guard let outbound = await iterator.next() else { throw ClientError.upgradeRefused(status: 101, body: "closed during the upgrade") }
        return WebSocketClient(
            handshakeResponseHead: responseHead,
            channel: asyncChannel.channel,
            outbound: outbound,
            mailbox: mailbox,
            pump: pump,
            readGate: readGate
        )
    }

    // MARK: - Sending

    public func send(text: String) async throws {
        try await send(frame: WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)))
    }

    public func send(_ message: ClientMessage) async throws {
        let data = try JSONEncoder().encodeAsByteBuffer(message, allocator: ByteBufferAllocator())
        try await send(frame: WebSocketFrame(fin: true, opcode: .text, data: data))
    }

    /// Sends a frame as is, with a mask key as a client must (the frame encoder applies it).
    public func send(frame: WebSocketFrame) async throws {
        var frame = frame
        if frame.maskKey == nil { frame.maskKey = .random() }
        try await outbound.write(frame)
    }

    /// Sends several frames in one write, so they arrive back to back.
    public func send(texts: [String]) async throws {
        try await outbound.write(
            contentsOf: texts.map { WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: $0)) }
        )
    }

    /// Sends a close frame; the server's answer arrives as `.close`, then `.disconnected`.
    public func close(code: WebSocketErrorCode = .normalClosure) async throws {
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        try await send(frame: WebSocketFrame(fin: true, opcode: .connectionClose, data: data))
    }

    /// Drops the TCP connection without a close frame.
    public func abort() async {
        try? await channel.close()
        // A stopped reader's pump waits at the gate: let it run to the end of the closed stream.
        readGate.open()
        _ = await pump.value
    }

    // MARK: - Receiving

    /// Stops taking frames off the socket, as a client that stopped reading does.
    public func stopReading() {
        readGate.close()
    }

    public func resumeReading() {
        readGate.open()
    }

    /// The next frame, waiting at most `timeout`.
    public func receive(timeout: Duration = .seconds(10)) async throws -> Frame {
        try await mailbox.next(timeout: timeout)
    }

    /// The next text frame decoded as a server message; anything else is an error.
    public func receiveMessage(timeout: Duration = .seconds(10)) async throws -> ServerMessage {
        let frame = try await receive(timeout: timeout)
        guard case .text(let text) = frame else { throw ClientError.unexpected(frame) }
        return try JSONDecoder().decode(ServerMessage.self, from: ByteBuffer(string: text))
    }

    /// The next text frame as raw text.
    public func receiveText(timeout: Duration = .seconds(10)) async throws -> String {
        let frame = try await receive(timeout: timeout)
        guard case .text(let text) = frame else { throw ClientError.unexpected(frame) }
        return text
    }

    /// Frames received and not yet taken.
    public var pendingFrames: Int { mailbox.count }
}

extension WebSocketMaskingKey {
    static func random() -> WebSocketMaskingKey {
        WebSocketMaskingKey((0..<4).map { _ in UInt8.random(in: .min ... .max) })!
    }
}
