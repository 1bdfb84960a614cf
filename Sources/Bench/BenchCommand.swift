import ArgumentParser
import Foundation
import GatewayClient
import GeneratedMessages
import HiveOpsGateway
import NIOCore
import NIOPosix
import NIOWebSocket
import Prometheus
import RedisClient
import Synchronization

/// `hiveops-bench`: a load generator for any gateway that speaks the HiveOps protocol.
/// Loopback only; every run is bounded in time and count.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hiveops-bench",
        abstract: "Load-test a HiveOps WebSocket gateway: fan-out throughput, latency, loss, memory.",
        discussion: """
            Opens --connections WebSocket connections (spread over --source-addresses loopback addresses
            so that 20,000+ connections do not exhaust ephemeral ports), publishes numbered events carrying
            their send time, and reports delivered frames/s, publish→receive latency percentiles, lost and
            out-of-order frames, and the gateway's memory and CPU (with --gateway-pid or --spawn-gateway).
            It raises its own open-file limit to the hard limit; raise the hard limit with `ulimit -Hn` if
            that is not enough. Only loopback targets (127.0.0.0/8) are accepted.
            """
    )

    @Option(help: "Gateway host (loopback only).") var host = "127.0.0.1"
    @Option(help: "Gateway port.") var port = 8000
    @Option(help: "WebSocket path (the topic must be among its subscriptions).") var path = "/api/dashboard/ws/system"
    @Option(help: "Topic the events go to.") var topic = "system"
    @Option(help: "Update type for redis-broadcast and rest.") var updateType = "system_update"
    @Option(help: "Connections to open.") var connections = 1_000
    @Option(help: "Connections that stop reading after the greeting, as a fraction (0-1).") var stalledFraction = 0.0
    @Option(help: "How many loopback source addresses (127.0.0.2 and up) to spread connections over.") var sourceAddresses = 8
    @Option(help: "Connection attempts in flight at once.") var connectConcurrency = 200
    @Option(help: "How events are published: \(Publisher.Route.allCases.map(\.rawValue).joined(separator: ", ")).")
    var publisher = "redis-broadcast"
    @Option(help: "Redis for the redis-* publishers.") var redisURL = "redis://127.0.0.1:6379"
    @Option(help: "Events per second; 0 publishes as fast as the gateway delivers (closed loop, see --window).") var rate = 0.0
    @Option(help: "With --rate 0: the most events in flight, published but not yet received by every healthy connection.")
    var window = 20
    @Option(help: "Publishing time in seconds (at most 600).") var duration = 20.0
    @Option(help: "Approximate size of each event's data, in bytes.") var payloadBytes = 256
    @Option(help: "What fills each event's data: \(Publisher.PayloadShape.allCases.map(\.rawValue).joined(separator: ", ")) (agent records).")
    var payloadShape = Publisher.PayloadShape.padding
    @Flag(help: "Only connect, settle and measure memory per idle connection; publish nothing.") var idleOnly = false
    @Option(
        help:
            "pid of the gateway, to sample its memory and CPU; repeat it for a server of several processes (nginx's master and workers), whose figures are summed."
    )
    var gatewayPid: [Int32] = []
    @Option(help: "With --publisher http: where each frame is POSTed.") var publishURL: String?
    @Option(
        help:
            "Publishes in flight at once. A server whose publish answers only after its fan-out (nchan) needs several, or the publisher sets the pace."
    )
    var publishConcurrency = 1
    @Option(
        help:
            "Start this gateway binary (inheriting the raised file limit) on a free port, with --redis-url for the redis-* publishers and --gateway-args."
    )
    var spawnGateway: String?
    @Option(help: "Extra arguments for --spawn-gateway, space-separated, given as --gateway-args=\"--idle-timeout 900\".")
    var gatewayArgs = ""
    @Flag(help: "Print one JSON record instead of a table.") var json = false
    @Flag(help: "Offer permessage-deflate as browsers do, and inflate every compressed frame.") var compression = false
    @Option(
        help:
            "How the load connections read: nio (a SwiftNIO channel each) or raw (plain sockets read by one epoll thread per core: about half the CPU per frame of nio, so that on a shared machine the latencies are the server's; not with --compression)."
    )
    var reader = Reader.nio
    @Option(
        help:
            "Recovery: publish this many events first (unless --recover-only), then open every connection at once asking to recover them all, and time the replays; 0 measures live fan-out."
    )
    var recoverEvents = 0
    @Flag(help: "With --recover-events: publish nothing, recover the topic's last events (a gateway that did not hear them asks Redis).")
    var recoverOnly = false

    /// The load connections' shared zlib streams (a stream per connection would cost 10,000 × 40 KiB).
    static let inflater = MessageCompression(thresholdBytes: 0, metrics: GatewayMetrics(registry: PrometheusCollectorRegistry()), slots: 8)

    func validate() throws {
        guard host.hasPrefix("127.") || host == "localhost" else { throw ValidationError("only loopback gateways (127.0.0.0/8) may be targeted") }
        guard (1...200_000).contains(connections) else { throw ValidationError("--connections must be 1-200000") }
        guard (0...1).contains(stalledFraction) else { throw ValidationError("--stalled-fraction must be 0-1") }
        guard duration > 0, duration <= 600 else { throw ValidationError("--duration must be 0-600 s") }
        guard (1...250).contains(sourceAddresses) else { throw ValidationError("--source-addresses must be 1-250") }
        guard Publisher.Route(rawValue: publisher) != nil else { throw ValidationError("unknown --publisher \(publisher)") }
        guard (1...64).contains(publishConcurrency) else { throw ValidationError("--publish-concurrency must be 1-64") }
        if reader == .raw && compression { throw ValidationError("--reader raw reads uncompressed frames only: use --reader nio with --compression") }
        if Publisher.Route(rawValue: publisher) == .http {
            guard let publishURL, let url = URL(string: publishURL), url.scheme == "http", let host = url.host,
                host.hasPrefix("127.") || host == "localhost"
            else { throw ValidationError("--publisher http needs --publish-url http://127.x.x.x:port/path (loopback only)") }
        }
    }

    func run() async throws {
        let limit = raiseFileLimit()
        if limit.soft < UInt64(connections) + 64 {
            progress("warning: the open-file limit is \(limit.soft); raise it (ulimit -Hn) for \(connections) connections")
        }
        var spawned: Process?
        var pids = gatewayPid
        var port = port
        if let binary = spawnGateway {
            let redisArguments = [.rest, .http].contains(Publisher.Route(rawValue: publisher)) ? [] : ["--redis-url", redisURL]
            (spawned, port) = try await Self.spawn(binary, arguments: redisArguments + gatewayArgs.split(separator: " ").map(String.init))
            pids = spawned.map { [$0.processIdentifier] } ?? []
        }
        defer {
            spawned?.terminate()
            spawned?.waitUntilExit()
        }
        let route = Publisher.Route(rawValue: publisher)!
        let redis = route == .rest || route == .http || idleOnly ? nil : try await RedisConnection.connect(to: RedisURL(parsing: redisURL))
        let publisher = Publisher(
            route: route,
            topic: topic,
            updateType: updateType,
            payloadBytes: payloadBytes,
            payloadShape: payloadShape,
            gatewayBaseURL: "http://\(host):\(port)",
            redis: redis,
            publishURL: publishURL.flatMap(URL.init(string:))
        )

        var loadPath = path
        if recoverEvents > 0 {
            if !recoverOnly {
                for batch in stride(from: 1, through: recoverEvents, by: 100) {
                    try await publisher.publish(batch...min(recoverEvents, batch + 99))
                }
            }
            let (epoch, top) = try await Self.position(of: topic, port: port, path: path, atLeast: recoverEvents)
            loadPath += (path.contains("?") ? "&" : "?") + "epoch=\(epoch)&offsets=\(topic):\(top - recoverEvents)"
            progress("recovering offsets \(top - recoverEvents + 1)...\(top) of \(topic) for \(connections) connections")
        }
        let baseline = ProcessSample.read(pids: pids)
        let latencies = LatencyRecorder()
        let rawReader =
            reader == .raw ? RawLoadReader(threads: System.coreCount, eventMarker: BenchFrameHandler.marker(of: publisher.eventType)) : nil
        defer { rawReader?.stop() }
        let started = ContinuousClock.now
        let (tallies, failures) =
            if let rawReader {
                await openConnections(reading: rawReader, port: port, path: loadPath)
            } else {
                try await openConnections(port: port, path: loadPath, eventType: publisher.eventType, latencies: latencies)
            }
        if recoverEvents > 0 {
            // Done when every connection has its replays (bounded: a lost one shows as incomplete).
            let deadline = started + .seconds(120)
            while ContinuousClock.now < deadline, tallies.contains(where: { $0.received.load(ordering: .relaxed) < recoverEvents }) {
                try await Task.sleep(for: .milliseconds(5))
            }
            let seconds = started.duration(to: .now).seconds
            let after = ProcessSample.read(pids: pids)
            let recovery = Report.Recovery(
                events: recoverEvents,
                clients: tallies.count,
                complete: tallies.filter { $0.received.load(ordering: .relaxed) == recoverEvents }.count,
                outOfOrder: tallies.reduce(0) { $0 + $1.outOfOrder.load(ordering: .relaxed) },
                seconds: seconds,
                gatewayCpuSeconds: after.flatMap { after in baseline.map { after.cpuSeconds - $0.cpuSeconds } },
                gatewayResidentBytes: after?.residentBytes
            )
            print(json ? recovery.json() : recovery.table())
            return
        }
        let connectSeconds = started.duration(to: .now).seconds
        progress("connected \(tallies.count) of \(connections) in \(String(format: "%.1f", connectSeconds)) s (\(failures) failed)")
        try await Task.sleep(for: .seconds(2))
        let afterConnect = ProcessSample.read(pids: pids)
        let ownBefore = ProcessSample.read(pid: getpid())

        var report = Report(
            connections: tallies.count,
            connectFailures: failures,
            connectRate: Double(tallies.count) / connectSeconds,
            stalled: stalledCount,
            publisher: route.rawValue,
            payloadBytes: payloadBytes,
            gatewayBaseline: baseline,
            gatewayAfterConnect: afterConnect
        )
        report.compression = compression
        report.reader = reader.rawValue
        if let baseline, let afterConnect, !tallies.isEmpty {
            report.gatewayBytesPerConnection = (afterConnect.residentBytes - baseline.residentBytes) / tallies.count
        }
        if !idleOnly {
            let healthyTallies = tallies.filter { !$0.stalled }
            let published = try await publish(with: publisher, healthy: healthyTallies, report: &report)
            // Let the last frames arrive: stop when no healthy connection has received anything for a second.
            var previous = -1
            let drainDeadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < drainDeadline {
                let total = healthyTallies.reduce(0) { $0 + $1.received.load(ordering: .relaxed) }
                if total == previous { break }
                previous = total
                try await Task.sleep(for: .seconds(1))
            }
            let healthy = healthyTallies
            report.published = published
            report.delivered = healthy.reduce(0) { $0 + $1.received.load(ordering: .relaxed) }
            report.lost = healthy.reduce(0) { $0 + max(0, published - $1.received.load(ordering: .relaxed)) }
            report.outOfOrder = healthy.reduce(0) { $0 + $1.outOfOrder.load(ordering: .relaxed) }
            report.disconnectedHealthy = healthy.filter { $0.closed.load(ordering: .relaxed) }.count
            report.disconnectedStalled = tallies.filter { $0.stalled && $0.closed.load(ordering: .relaxed) }.count
            report.latency = rawReader?.latencies ?? latencies.summary
            report.gatewayAfterRun = ProcessSample.read(pids: pids)
            if let ownBefore, let ownAfter = ProcessSample.read(pid: getpid()) {
                report.loadGeneratorCpuSeconds = ownAfter.cpuSeconds - ownBefore.cpuSeconds
            }
        }
        print(json ? report.json() : report.table())
    }

    private var stalledCount: Int { Int((Double(connections) * stalledFraction).rounded()) }

    private func progress(_ line: String) {
        FileHandle.standardError.write(Data("hiveops-bench: \(line)\n".utf8))
    }

    /// Opens every connection, at most `connectConcurrency` at a time; the first `stalledCount` stop reading.
    private func openConnections(port: Int, path: String, eventType: String, latencies: LatencyRecorder) async throws -> ([ConnectionTally], Int) {
        let group = MultiThreadedEventLoopGroup.singleton
        var tallies: [ConnectionTally] = []
        var failures = 0
        var next = 0
        let stalled = stalledCount
        let compression = compression
        try await withThrowingTaskGroup(of: ConnectionTally?.self) { tasks in
            func launch(_ index: Int) {
                let source = "127.0.0.\(2 + index % sourceAddresses)"
                tasks.addTask {
                    try? await Self.connect(
                        host: host,
                        port: port,
                        path: path,
                        source: source,
                        group: group,
                        stall: index < stalled,
                        eventType: eventType,
                        latencies: latencies,
                        compression: compression
                    )
                }
            }
            while next < min(connectConcurrency, connections) {
                launch(next)
                next += 1
            }
            while let result = try await tasks.next() {
                if let tally = result { tallies.append(tally) } else { failures += 1 }
                if next < connections {
                    launch(next)
                    next += 1
                }
                if (tallies.count + failures).isMultiple(of: 5_000) { progress("connecting: \(tallies.count + failures) of \(connections)") }
            }
        }
        return (tallies, failures)
    }

    /// Opens every connection through the raw reader, `connectConcurrency` handshakes at a time.
    private func openConnections(reading reader: RawLoadReader, port: Int, path: String) async -> ([ConnectionTally], Int) {
        let stalled = stalledCount
        let (host, sourceAddresses) = (host, sourceAddresses)
        let tallies = (0..<connections).map { ConnectionTally(stalled: $0 < stalled) }
        let firstFailure = Mutex<String?>(nil)
        let opened = await RawLoadReader.openAll(count: connections, concurrency: connectConcurrency) { index in
            do {
                let source = "127.0.0.\(2 + index % sourceAddresses)"
                try reader.connect(host: host, port: port, path: path, source: source, stall: index < stalled, tally: tallies[index])
                return true
            } catch {
                firstFailure.withLock { $0 = $0 ?? "\(error)" }
                return false
            }
        }
        if let failure = firstFailure.withLock({ $0 }) { progress("a connection failed: \(failure)") }
        let kept = zip(tallies, opened).filter(\.1).map(\.0)
        return (kept, connections - kept.count)
    }

    private static func connect(
        host: String,
        port: Int,
        path: String,
        source: String,
        group: any EventLoopGroup,
        stall: Bool,
        eventType: String,
        latencies: LatencyRecorder,
        compression: Bool
    ) async throws -> ConnectionTally {
        let tally = ConnectionTally(stalled: stall)
        let offer = compression ? [("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")] : []
        let inflater = compression ? Self.inflater : nil
        typealias Handshake = HandshakeHandler<Bool>
        // One loop for the channel and its promise: two calls to `next()` would put every
        // connection on the same loop of a two-loop group.
        let loop = group.next()
        let promise = loop.makePromise(of: Handshake.Result.self)
        _ = try await ClientBootstrap(group: loop)
            .bind(to: try SocketAddress(ipAddress: source, port: 0))
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        Handshake(host: host, port: port, path: path, headers: offer, maxFrameSize: 1 << 24, promise: promise) { channel in
                            try channel.pipeline.syncOperations.addHandler(
                                BenchFrameHandler(tally: tally, latencies: latencies, eventType: eventType, inflater: inflater)
                            )
                            if stall { _ = channel.setOption(.autoRead, value: false) }
                            return true
                        }
                    )
                }
            }
            .connect(host: host, port: port).get()
        guard case .upgraded = try await promise.futureResult.get() else { throw WebSocketClient.ClientError.upgradeRefused(status: 0, body: "") }
        return tally
    }

    /// Publishes for `duration` at `rate`, or closed-loop as fast as the gateway delivers; returns how many.
    private func publish(with publisher: Publisher, healthy: [ConnectionTally], report: inout Report) async throws -> Int {
        let start = ContinuousClock.now
        let end = start + .seconds(duration)
        var published = 0
        var lastProgress = start
        let batch = rate > 0 ? max(1, Int(rate / 100)) : max(1, window / 4)
        // The connection found behind last time: checked first, so that a wait costs one load a
        // round rather than a scan of every connection (which took CPU from the gateway).
        var laggard = 0
        var waited = Duration.zero
        func isBehind(_ tally: ConnectionTally) -> Bool {
            !tally.closed.load(ordering: .relaxed) && published - tally.received.load(ordering: .relaxed) >= window
        }
        func someoneIsBehind() -> Bool {
            if laggard < healthy.count, isBehind(healthy[laggard]) { return true }
            guard let index = healthy.firstIndex(where: isBehind) else { return false }
            laggard = index
            return true
        }
        // Batches in flight at once (--publish-concurrency): one after another by default.
        try await withThrowingTaskGroup(of: Void.self) { inFlight in
            var running = 0
            while ContinuousClock.now < end {
                if rate == 0 {
                    // Closed loop: wait while the slowest healthy connection is a window behind.
                    let waitStarted = ContinuousClock.now
                    while ContinuousClock.now < end, someoneIsBehind() {
                        try await Task.sleep(for: .microseconds(200))
                    }
                    waited += waitStarted.duration(to: .now)
                }
                if running == publishConcurrency {
                    try await inFlight.next()
                    running -= 1
                }
                let sequences = (published + 1)...(published + batch)
                inFlight.addTask { try await publisher.publish(sequences) }
                running += 1
                published += batch
                if rate > 0 {
                    let due = start + .seconds(Double(published) / rate)
                    if due > ContinuousClock.now { try await Task.sleep(until: due) }
                }
                if lastProgress.duration(to: .now) >= .seconds(5) {
                    lastProgress = .now
                    progress("published \(published) in \(String(format: "%.0f", start.duration(to: .now).seconds)) s")
                }
            }
            try await inFlight.waitForAll()
        }
        let seconds = start.duration(to: .now).seconds
        report.publishSeconds = seconds
        report.publishRate = Double(published) / seconds
        report.requestedRate = rate
        report.gatewayWaitFraction = seconds > 0 ? waited.seconds / seconds : 0
        return published
    }

    /// The topic's epoch and offset as a new connection is told them, once the offset reaches
    /// `atLeast` (a gateway records what was published asynchronously).
    private static func position(of topic: String, port: Int, path: String, atLeast: Int) async throws -> (String, Int) {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let probe = try await WebSocketClient.connect(port: port, path: path)
            defer { Task { try? await probe.close() } }
            guard case .connectionEstablished(let greeting) = try await probe.receiveMessage() else {
                throw ValidationError("the gateway did not greet first")
            }
            if let stream = greeting.streams?[topic], let epoch = stream.epoch, let offset = stream.offset, offset >= atLeast {
                return (epoch, offset)
            }
            guard ContinuousClock.now < deadline else {
                throw ValidationError("\(topic) has fewer than \(atLeast) events (\(greeting.streams ?? [:]))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Starts a gateway on a free port and waits for its ready line.
    private static func spawn(_ binary: String, arguments: [String]) async throws -> (Process, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--port", "0"] + arguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var log = ""
        let handle = pipe.fileHandleForReading
        while true {
            let data = handle.availableData
            guard !data.isEmpty else { throw ValidationError("the gateway exited before it was ready:\n\(log)") }
            log += String(decoding: data, as: UTF8.self)
            if let range = log.range(of: #"address=http://127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                let port = Int(log[range].split(separator: ":").last!)
            {
                // Keep draining its log so that a full pipe never stalls it.
                Thread.detachNewThread { while !handle.availableData.isEmpty {} }
                return (process, port)
            }
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension Publisher.PayloadShape: ExpressibleByArgument {}

extension BenchCommand {
    /// How the load connections read their frames (`--reader`).
    enum Reader: String, CaseIterable, ExpressibleByArgument, Sendable {
        case nio
        case raw
    }
}
