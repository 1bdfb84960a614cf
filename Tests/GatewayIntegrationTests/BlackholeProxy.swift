import NIOCore
import NIOPosix
import Synchronization

/// A loopback TCP proxy in front of a gateway that can cut its clients off the way a phone that
/// loses its network is cut off: the client's side closes, while the gateway's side stays open
/// and silent (what the gateway writes is read and thrown away), so the gateway never learns the
/// client left. Real sockets; only the network's failure is simulated.
final class BlackholeProxy: Sendable {
    private struct Pair {
        let client: any Channel
        let upstream: any Channel
    }

    private struct State {
        var pairs: [Pair] = []
        var cut = false
    }

    /// The state the proxy and its relays share (a `Mutex` cannot be captured by the initializer's closure).
    private final class Shared: Sendable {
        let state = Mutex(State())
    }

    let port: Int
    private let server: any Channel
    private let shared = Shared()

    init(targetPort: Int) async throws {
        let shared = self.shared
        let group = MultiThreadedEventLoopGroup.singleton
        server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { client in
                ClientBootstrap(group: group).connect(host: "127.0.0.1", port: targetPort).flatMap { upstream in
                    shared.state.withLock { $0.pairs.append(Pair(client: client, upstream: upstream)) }
                    let isCut: @Sendable () -> Bool = { shared.state.withLock { $0.cut } }
                    return upstream.pipeline.addHandler(Relay(partner: client, isCut: isCut)).flatMap {
                        client.pipeline.addHandler(Relay(partner: upstream, isCut: isCut))
                    }
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        port = server.localAddress?.port ?? 0
    }

    /// Cuts every client off; their gateway connections stay open and unanswered.
    func cut() {
        let clients = shared.state.withLock { state -> [any Channel] in
            state.cut = true
            return state.pairs.map(\.client)
        }
        for client in clients { client.close(promise: nil) }
    }

    /// Closes everything, the gateway's side too.
    func close() {
        let channels = shared.state.withLock { state in state.pairs.flatMap { [$0.client, $0.upstream] } }
        for channel in channels { channel.close(promise: nil) }
        server.close(promise: nil)
    }

    /// Copies what one side reads to the other until the cut; after it, reads are thrown away and
    /// neither side's end closes the other.
    private final class Relay: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let partner: any Channel
        let isCut: @Sendable () -> Bool

        init(partner: any Channel, isCut: @escaping @Sendable () -> Bool) {
            self.partner = partner
            self.isCut = isCut
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !isCut() else { return }
            partner.writeAndFlush(unwrapInboundIn(data), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !isCut() { partner.close(promise: nil) }
            context.fireChannelInactive()
        }
    }
}
