import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Writes a broadcast frame straight to the connection's socket with one `send(2)`, below SwiftNIO's
/// channel write path (the pipeline, the pending-writes queue, a promise per write), which took about
/// a quarter of the CPU of each delivered frame at a fixed rate (docs/BENCHMARKS.md, "Where the CPU
/// per frame goes"). The descriptor comes from SwiftNIO (`withUnsafeTransportIfAvailable`); the
/// handler that owns this writer uses it only on the channel's event loop, drops it when the channel
/// goes inactive (SwiftNIO closes the descriptor and fires that in one event-loop turn, so a later
/// turn never sees a closed or reused descriptor), and only while SwiftNIO holds nothing unwritten
/// for the channel, so that bytes keep their order on the wire.
struct DirectSocketWriter {
    let descriptor: CInt

    /// Sends what it can of `buffer` without blocking; returns how many bytes the socket took. Fewer
    /// than all (a full send buffer, or an error) leaves the rest to SwiftNIO, which waits for the
    /// socket, or meets the same error and closes the channel the usual way.
    func send(_ buffer: ByteBuffer) -> Int {
        buffer.withUnsafeReadableBytes { bytes in
            while true {
                // MSG_NOSIGNAL: a peer that went away is an error here, not a SIGPIPE.
                let sent = Glibc.send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
                if sent >= 0 { return sent }
                if errno != EINTR { return 0 }
            }
        }
    }
}
