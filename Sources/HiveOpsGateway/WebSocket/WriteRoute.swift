/// Which way a connection's next batch of frames goes: straight to its socket
/// (``DirectSocketWriter``), or through the channel. Bytes must reach the wire in the order they
/// were written, so a batch goes straight only when the channel holds nothing unwritten; a batch of
/// several goes through the channel, which writes it with one `writev`.
struct WriteRoute {
    /// The connection's socket: nil where the channel has no descriptor (an `EmbeddedChannel`), and
    /// once the channel is inactive.
    var socket: DirectSocketWriter?
    /// Writes handed to the channel that it has not finished (written or failed). 32 bits: this
    /// lives in every connection's handler.
    private(set) var channelWritesInFlight: Int32 = 0

    init(socket: DirectSocketWriter? = nil) {
        self.socket = socket
    }

    /// The socket to write a batch of `count` frames to, or nil for the channel.
    func socket(forFrames count: Int) -> DirectSocketWriter? {
        count == 1 && channelWritesInFlight == 0 ? socket : nil
    }

    /// A write was handed to the channel: nothing goes straight until it is finished.
    mutating func channelWriteStarted() {
        channelWritesInFlight += 1
    }

    mutating func channelWriteFinished() {
        channelWritesInFlight -= 1
    }
}
