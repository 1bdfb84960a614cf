import Foundation
import GatewayClient
import Synchronization
import Testing

@testable import Bench

#if canImport(Glibc)
import Glibc
#endif

/// The raw reader on real sockets: a socket pair stands for the server's end, which the test
/// writes frames into and reads the reader's answers from (blocking reads, bounded by a timeout:
/// the answer to a ping comes after every frame written before it was counted).
@Suite struct RawLoadReaderTests {
    /// A connected pair of stream sockets: the reader's end and the server's, each read bounded by 10 s.
    static func socketPair() throws -> (reader: Int32, server: Int32) {
        var ends: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0 else { throw POSIXError(.EIO) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(ends[1], SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
        return (ends[0], ends[1])
    }

    static func send(_ bytes: [UInt8], to socket: Int32) {
        _ = bytes.withUnsafeBytes { write(socket, $0.baseAddress, $0.count) }
    }

    /// Reads exactly `count` bytes, or fewer at the end of the stream or after the timeout.
    static func receive(_ count: Int, from socket: Int32) -> [UInt8] {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: count)
        while received.count < count {
            let got = chunk.withUnsafeMutableBytes { read(socket, $0.baseAddress, count - received.count) }
            guard got > 0 else { break }
            received += chunk[..<got]
        }
        return received
    }

    /// A one-thread reader with one connection adopted, and the server's end of that connection;
    /// both stopped and closed when it goes.
    final class Connected {
        let reader = RawLoadReader(threads: 1, eventMarker: BenchFrameHandler.marker(of: "system_update"))
        let tally = ConnectionTally(stalled: false)
        let serverEnd: Int32

        init(leftover: [UInt8]) throws {
            let (readerEnd, serverEnd) = try RawLoadReaderTests.socketPair()
            self.serverEnd = serverEnd
            reader.loops[0].adopt(readerEnd, tally: tally, leftover: leftover)
        }

        deinit {
            reader.stop()
            close(serverEnd)
        }
    }

    static func event(_ sequence: Int, sentAt: Int) -> [UInt8] {
        ServerFrameScannerTests.text(#"{"type":"system_update","data":{"seq":\#(sequence),"t":\#(sentAt)}}"#)
    }

    @Test func eventsAreCountedInOrderAPingIsAnsweredMaskedAndACloseEndsTheConnection() throws {
        let sentAt = MonotonicClock.nanoseconds()
        // The first event arrived with the handshake's answer; the rest, one split across two writes.
        let connection = try Connected(leftover: Self.event(1, sentAt: sentAt))
        let (serverEnd, tally) = (connection.serverEnd, connection.tally)
        let second = Self.event(2, sentAt: sentAt)
        Self.send(Array(second.prefix(5)), to: serverEnd)
        Self.send(Array(second.dropFirst(5)) + Self.event(2, sentAt: sentAt) + Self.frame(0x9, [7, 8, 9]), to: serverEnd)

        let pong = Self.receive(2 + 4 + 3, from: serverEnd)
        try #require(pong.count == 9, "the ping was answered")
        #expect(pong[0] == 0x8A && pong[1] == 0x83, "a final, masked pong of three bytes")
        #expect(ClientWire.mask(Array(pong[6...]), with: Array(pong[2..<6])) == [7, 8, 9], "echoing the ping's payload")
        let received = tally.received.load(ordering: .relaxed)
        #expect(received == 3)
        let outOfOrder = tally.outOfOrder.load(ordering: .relaxed)
        #expect(outOfOrder == 1, "the repeated 2")
        #expect(connection.reader.latencies.count == 3)

        Self.send(Self.frame(0x8, [0x03, 0xE8]), to: serverEnd)
        #expect(Self.receive(1, from: serverEnd).isEmpty, "the reader closed its end")
        let closed = tally.closed.load(ordering: .relaxed)
        #expect(closed)
    }

    @Test func whatCameWithTheHandshakeIsReadEvenIfNothingFollowsIt() throws {
        // The socket stays silent: only the ping that came with the handshake can be answered.
        let connection = try Connected(leftover: Self.event(1, sentAt: MonotonicClock.nanoseconds()) + Self.frame(0x9, [1]))
        #expect(Self.receive(2 + 4 + 1, from: connection.serverEnd).count == 7, "the ping was answered")
        let received = connection.tally.received.load(ordering: .relaxed)
        #expect(received == 1)
    }

    @Test func aProtocolErrorClosesTheConnection() throws {
        let connection = try Connected(leftover: [])
        let (serverEnd, tally) = (connection.serverEnd, connection.tally)
        Self.send([0x81, 0x81, 1, 2, 3, 4, 0x61], to: serverEnd)
        #expect(Self.receive(1, from: serverEnd).isEmpty)
        let closed = tally.closed.load(ordering: .relaxed)
        #expect(closed)
        let received = tally.received.load(ordering: .relaxed)
        #expect(received == 0)
    }

    static func frame(_ opcode: UInt8, _ payload: [UInt8]) -> [UInt8] { ServerFrameScannerTests.frame(opcode, payload) }

    /// A one-connection HTTP server on loopback, on a thread of its own (the handshake under test
    /// blocks its caller's): reads the request's head, writes `answer`, and keeps the head.
    final class AnsweringServer: Sendable {
        let port: Int
        private let head = Mutex("")
        private let done = DispatchSemaphore(value: 0)

        init(answer: [UInt8]) throws {
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0
                }
            }
            guard bound, listen(listener, 1) == 0 else {
                close(listener)
                throw POSIXError(.EADDRINUSE)
            }
            port = Int(UInt16(bigEndian: address.sin_port))
            Thread.detachNewThread { self.serve(listener, answer: answer) }
        }

        private func serve(_ listener: Int32, answer: [UInt8]) {
            defer {
                close(listener)
                done.signal()
            }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var request: [UInt8] = []
            while !request.suffix(4).elementsEqual([13, 10, 13, 10]) {
                let got = RawLoadReaderTests.receive(1, from: connection)
                guard !got.isEmpty else { break }
                request += got
            }
            head.withLock { $0 = String(decoding: request, as: UTF8.self) }
            RawLoadReaderTests.send(answer, to: connection)
            // Until the client closes: what it writes after the answer is not part of the test.
            _ = RawLoadReaderTests.receive(1, from: connection)
        }

        /// The request's head, once the client has closed (bounded: 10 s).
        var request: String {
            _ = done.wait(timeout: .now() + 10)
            return head.withLock { $0 }
        }
    }

    @Test func theHandshakeUpgradesAndKeepsWhatCameWithTheAnswer() throws {
        let greeting = ServerFrameScannerTests.text(#"{"type":"connection_established"}"#)
        let answer = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".utf8) + greeting
        let server = try AnsweringServer(answer: answer)
        let (socket, leftover) = try RawHandshake.open(host: "127.0.0.1", port: server.port, path: "/api/dashboard/ws/system", source: "127.0.0.1")
        close(socket)
        #expect(leftover == greeting)
        let head = server.request
        #expect(head.hasPrefix("GET /api/dashboard/ws/system HTTP/1.1\r\n"))
        #expect(head.lowercased().contains("upgrade: websocket"))
    }

    @Test func aRefusedUpgradeIsAnErrorThatSaysTheStatus() throws {
        let server = try AnsweringServer(answer: Array("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".utf8))
        #expect {
            try RawHandshake.open(host: "127.0.0.1", port: server.port, path: "/api/dashboard/ws/system", source: "127.0.0.1")
        } throws: { error in
            if case RawHandshake.Failure.refused(status: 403) = error { return true }
            return false
        }
        #expect(server.request.hasPrefix("GET "))
    }
}
