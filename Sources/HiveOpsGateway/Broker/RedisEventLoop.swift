import NIOPosix

/// The event loop of every gateway connection to Redis, apart from the WebSocket connections':
/// on a loop of their own, Redis's answers (and the deliveries they start) never wait behind a
/// fan-out's socket writes (docs/BENCHMARKS.md, "History and recovery"). Lives as long as the process.
enum RedisEventLoop {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
}
