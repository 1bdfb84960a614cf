import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Writes a broadcast frame straight to the connection's socket with one `send(2)`, below SwiftNIO's
/// channel write path (the pipeline, the pending-writes queue, a promise per write), which took about
/// a quarter of the CPU of each delivered frame at a fixed rate (docs/BENCHMARKS.md, "Where the CPU
/// per frame goes"). The descriptor comes from SwiftNIO (`withUnsafeTransportIfAvailable`); the
/// handler that owns this writer, and its connection while the handler offers it one
/// (``Connection/offerSocket(_:)``), use it only on the channel's event loop; the handler drops it
/// when the channel goes inactive (SwiftNIO closes the descriptor and fires that in one event-loop
/// turn, so a later turn never sees a closed or reused descriptor), and it is used only while
/// SwiftNIO holds nothing unwritten for the channel, so that bytes keep their order on the wire.
struct DirectSocketWriter {
    let descriptor: CInt

    /// Sends what it can of `buffer` without blocking; returns what the socket did not take, nil
    /// when it took it all. The rest (a full send buffer, or an error) is SwiftNIO's to write, which
    /// waits for the socket, or meets the same error and closes the channel the usual way.
    func send(_ buffer: ByteBuffer) -> ByteBuffer? {
        let sent = buffer.withUnsafeReadableBytes { bytes in
            while true {
                // MSG_NOSIGNAL: a peer that went away is an error here, not a SIGPIPE.
                let sent = Glibc.send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
                if sent >= 0 { return sent }
                if errno != EINTR { return 0 }
            }
        }
        guard sent < buffer.readableBytes else { return nil }
        return buffer.getSlice(at: buffer.readerIndex + sent, length: buffer.readableBytes - sent)
    }
}
