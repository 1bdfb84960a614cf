import Foundation
import GatewayClient
import NIOCore
import Synchronization

#if canImport(CEpoll)
import CEpoll
#endif

#if canImport(Glibc)
import Glibc
#endif

/// The load connections' cheap receiving side (`--reader raw`): each connection is a plain
/// socket, upgraded with a blocking handshake, then read by one of a few threads, each with an
/// `epoll` set of its own, one `read(2)` per readiness into a buffer the thread reuses, frames
/// cut in place (``ServerFrameScanner``).
///
/// Why not SwiftNIO here, when the gateway itself is built on it: on two shared cores the load
/// generator's CPU per received frame sets the fixed-rate medians whenever it exceeds the server's
/// (docs/BENCHMARKS.md). Through a NIO channel pipeline a received frame cost this client 9.6 µs,
/// more than either server spends sending it; most of it the pipeline's per-read traversals,
/// each touching a connection's cold objects. With `--reader raw` the bench measures the servers.
final class RawLoadReader: Sendable {
    let loops: [ReaderLoop]
    private let nextLoop = Atomic<Int>(0)
    /// Connections that stop reading after the greeting: held open, never read.
    private let stalled = Mutex<[Int32]>([])

    init(threads: Int, eventMarker: [UInt8]) {
        loops = (0..<max(1, threads)).map { _ in ReaderLoop(eventMarker: eventMarker) }
        for loop in loops { loop.start() }
    }

    /// Every thread's latencies together.
    var latencies: LatencyRecorder.Summary { LatencyRecorder.summary(of: loops.map(\.latencies)) }

    /// Opens one load connection (blocking: call it off the cooperative pool) and hands it to a
    /// reading thread, or holds it unread when `stall` is set.
    func connect(host: String, port: Int, path: String, source: String, stall: Bool, tally: ConnectionTally) throws {
        let (socket, leftover) = try RawHandshake.open(host: host, port: port, path: path, source: source)
        if stall {
            stalled.withLock { $0.append(socket) }
            return
        }
        let index = nextLoop.add(1, ordering: .relaxed).oldValue % loops.count
        loops[index].adopt(socket, tally: tally, leftover: leftover)
    }

    /// Opens `count` connections, `concurrency` handshakes at a time, on plain threads: a blocking
    /// handshake never holds a thread of Swift's cooperative pool. `connect` opens connection
    /// `index`; returns which of them opened.
    static func openAll(count: Int, concurrency: Int, connect: @escaping @Sendable (Int) -> Bool) async -> [Bool] {
        let next = Atomic<Int>(0)
        let opened = Mutex([Bool](repeating: false, count: count))
        let workers = max(1, min(concurrency, count, 32))
        let finished = Atomic<Int>(0)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            for _ in 0..<workers {
                Thread.detachNewThread {
                    while case let index = next.add(1, ordering: .relaxed).oldValue, index < count {
                        if connect(index) { opened.withLock { $0[index] = true } }
                    }
                    if finished.add(1, ordering: .acquiringAndReleasing).newValue == workers { done.resume() }
                }
            }
        }
        return opened.withLock { $0 }
    }

    /// Stops the threads and closes every connection; returns once each thread has closed its own.
    func stop() {
        for loop in loops { loop.stop() }
        for socket in stalled.withLock({ $0 }) { close(socket) }
    }
}

/// One reading thread: its `epoll` set, and the connections it reads, adopted through `inbox`.
final class ReaderLoop: Sendable {
    private struct Adopted {
        var socket: Int32
        var tally: ConnectionTally
        var leftover: [UInt8]
    }

    /// A connection as its thread reads it.
    private struct Reading {
        var scanner: ServerFrameScanner
        let tally: ConnectionTally
    }

    let latencies = LatencyRecorder()
    private let epoll: Int32
    private let inbox = Mutex<[Adopted]>([])
    private let stopping = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)
    private let eventMarker: [UInt8]

    init(eventMarker: [UInt8]) {
        self.epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        self.eventMarker = eventMarker
    }

    func start() {
        Thread.detachNewThread { self.run() }
    }

    /// From any thread: the connection joins this thread's set; queued first, so that the thread
    /// knows it by the time `epoll` reports it.
    func adopt(_ socket: Int32, tally: ConnectionTally, leftover: [UInt8]) {
        inbox.withLock { $0.append(Adopted(socket: socket, tally: tally, leftover: leftover)) }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        event.data.fd = socket
        if epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event) != 0 {
            tally.closed.store(true, ordering: .relaxed)
        }
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        _ = stopped.wait(timeout: .now() + 2)
    }

    private func run() {
        var readings: [Reading?] = []
        let bufferSize = 1 << 16
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        defer {
            for (socket, reading) in readings.enumerated() where reading != nil { close(Int32(socket)) }
            for adopted in inbox.withLock({ $0 }) { close(adopted.socket) }
            close(epoll)
            buffer.deallocate()
            stopped.signal()
        }
        while !stopping.load(ordering: .relaxed) {
            let ready = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), 100) }
            // Every round, not only when a socket is ready: the bytes that came with a handshake's
            // answer are counted even if nothing follows them.
            take(into: &readings)
            guard ready > 0 else {
                if ready < 0 && errno != EINTR { return }
                continue
            }
            for event in events[0..<Int(ready)] {
                let socket = event.data.fd
                guard Int(socket) < readings.count, let tally = readings[Int(socket)]?.tally else { continue }
                let count = read(socket, buffer.baseAddress, bufferSize)
                if count < 0, errno == EAGAIN || errno == EINTR { continue }
                guard count > 0, scan(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), of: socket, tally: tally, in: &readings) else {
                    finish(socket, tally: tally, in: &readings)
                    continue
                }
            }
        }
    }

    /// Adopts what `adopt(_:tally:leftover:)` queued: the bytes read with the handshake's answer first.
    private func take(into readings: inout [Reading?]) {
        let adopted = inbox.withLock { inbox -> [Adopted] in
            defer { inbox.removeAll() }
            return inbox
        }
        for connection in adopted {
            let index = Int(connection.socket)
            if index >= readings.count { readings.append(contentsOf: repeatElement(nil, count: index - readings.count + 1)) }
            readings[index] = Reading(scanner: ServerFrameScanner(), tally: connection.tally)
            let scanned = connection.leftover.withUnsafeBytes { scan($0, of: connection.socket, tally: connection.tally, in: &readings) }
            if !scanned { finish(connection.socket, tally: connection.tally, in: &readings) }
        }
    }

    /// Counts the events in what was read; false when the connection is to be closed.
    private func scan(_ bytes: UnsafeRawBufferPointer, of socket: Int32, tally: ConnectionTally, in readings: inout [Reading?]) -> Bool {
        let receivedAt = MonotonicClock.nanoseconds()
        var closing = false
        do {
            try readings[Int(socket)]?.scanner.scan(bytes) { message in
                switch message {
                case .text(let text):
                    tally.count(text, receivedAt: receivedAt, eventMarker: eventMarker, latencies: latencies)
                case .ping(let payload):
                    // A control frame's payload is at most 125 bytes.
                    let pong = RawConnection.clientFrame(opcode: 0xA, payload: Array(payload.prefix(125)))
                    _ = pong.withUnsafeBytes { write(socket, $0.baseAddress, $0.count) }
                case .close:
                    closing = true
                }
            }
        } catch {
            return false
        }
        return !closing
    }

    private func finish(_ socket: Int32, tally: ConnectionTally, in readings: inout [Reading?]) {
        tally.closed.store(true, ordering: .relaxed)
        readings[Int(socket)] = nil
        epoll_ctl(epoll, EPOLL_CTL_DEL, socket, nil)
        close(socket)
    }
}

/// The client's side of the opening handshake on a plain blocking socket, and its masked frames.
enum RawHandshake {
    enum Failure: Error, CustomStringConvertible {
        case system(String, Int32)
        case refused(status: Int)
        case closedDuringHandshake

        var description: String {
            switch self {
            case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
            case .refused(let status): "the upgrade was answered \(status)"
            case .closedDuringHandshake: "the server closed the connection during the handshake"
            }
        }
    }

    /// A connected, upgraded, non-blocking socket, and what arrived after the `101` response's head.
    static func open(host: String, port: Int, path: String, source: String) throws(Failure) -> (Int32, [UInt8]) {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw .system("socket", errno) }
        var upgraded = false
        defer { if !upgraded { close(socket) } }
        // Bounded: connect and every handshake read or write give up after 10 s.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var local = try address(source, port: 0)
        guard
            withUnsafePointer(
                to: &local,
                { bind(socket, UnsafeRawPointer($0).assumingMemoryBound(to: sockaddr.self), socklen_t(MemoryLayout<sockaddr_in>.size)) }
            ) == 0
        else {
            throw .system("bind", errno)
        }
        var remote = try address(host == "localhost" ? "127.0.0.1" : host, port: port)
        guard
            withUnsafePointer(
                to: &remote,
                { Glibc.connect(socket, UnsafeRawPointer($0).assumingMemoryBound(to: sockaddr.self), socklen_t(MemoryLayout<sockaddr_in>.size)) }
            ) == 0
        else { throw .system("connect", errno) }
        let key = Data((0..<16).map { _ in UInt8.random(in: .min ... .max) }).base64EncodedString()
        let request = Array(ClientWire.upgradeRequest(path: path, host: "\(host):\(port)", key: key).utf8)
        var written = 0
        while written < request.count {
            let count = request.withUnsafeBytes { write(socket, $0.baseAddress! + written, $0.count - written) }
            guard count > 0 else { throw .system("write", errno) }
            written += count
        }
        var received = ByteBuffer()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let head = ClientWire.takeResponseHead(from: &received) {
                let status = ClientWire.status(ofResponseHead: head)
                guard status == 101 else { throw .refused(status: status) }
                guard fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK) == 0 else { throw .system("fcntl", errno) }
                upgraded = true
                return (socket, Array(received.readableBytesView))
            }
            let count = chunk.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
            guard count >= 0 else { throw .system("read", errno) }
            guard count > 0, received.readableBytes < 65_536 else { throw .closedDuringHandshake }
            received.writeBytes(chunk[..<count])
        }
    }

    private static func address(_ text: String, port: Int) throws(Failure) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
        guard inet_pton(AF_INET, text, &address.sin_addr) == 1 else { throw .system("inet_pton(\(text))", EINVAL) }
        return address
    }
}
