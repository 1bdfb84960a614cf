/// Which way a connection's next batch of frames goes: straight to its socket
/// (``DirectSocketWriter``), or through the channel. Bytes must reach the wire in the order they
/// were written, so a batch goes straight only when the channel holds nothing unwritten; a batch of
/// several goes through the channel, which writes it with one `writev`.
struct WriteRoute {
    enum Way: Equatable {
        case socket
        case channel
    }

    /// Whether the connection has a descriptor to write to (not an `EmbeddedChannel`, not closed).
    var hasSocket: Bool
    /// Writes handed to the channel that it has not finished (written or failed).
    private(set) var channelWritesInFlight = 0

    init(hasSocket: Bool) {
        self.hasSocket = hasSocket
    }

    func way(forFrames count: Int) -> Way {
        hasSocket && count == 1 && channelWritesInFlight == 0 ? .socket : .channel
    }

    /// A write was handed to the channel: nothing goes straight until it is finished.
    mutating func channelWriteStarted() {
        channelWritesInFlight += 1
    }

    mutating func channelWriteFinished() {
        channelWritesInFlight -= 1
    }
}
