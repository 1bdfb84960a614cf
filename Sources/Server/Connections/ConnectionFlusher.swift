import NIOCore
import NIOWebSocket
import Prometheus

/// Writes a connection's queued frames on its channel's event loop: a batch per round, the next
/// round once the previous batch is flushed, so NIO holds at most one batch. An enqueue schedules
/// the first round; there is no task switch per frame. The session's writer task only sends the
/// notice and the close frame, after the flusher has drained the queue.
enum ConnectionFlusher {
    static func schedule(_ connection: Connection, on channel: any Channel, metrics: GatewayMetrics) {
        channel.eventLoop.execute { flush(connection, channel: channel, metrics: metrics) }
    }

    private static func flush(_ connection: Connection, channel: any Channel, metrics: GatewayMetrics) {
        let frames = connection.takeFlushBatch(now: .now)
        guard let last = frames.last else { return }
        // Below the WebSocket frame encoder: the frames are already framed (once per broadcast).
        guard let encoder = try? channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self) else {
            connection.flushFailed()
            return
        }
        var bytes = 0
        var errors = 0
        for frame in frames {
            bytes += frame.bytes.readableBytes
            if frame.type == "error" { errors += 1 }
        }
        metrics.messagesSent.increment(by: Int64(frames.count))
        metrics.bytesSent.increment(by: Int64(bytes))
        if errors > 0 { metrics.errorsSent.increment(by: Int64(errors)) }
        for frame in frames.dropLast() {
            encoder.write(NIOAny(IOData.byteBuffer(frame.wire)), promise: nil)
        }
        let written = channel.eventLoop.makePromise(of: Void.self)
        encoder.writeAndFlush(NIOAny(IOData.byteBuffer(last.wire)), promise: written)
        written.futureResult.whenComplete { result in
            switch result {
            case .success:
                // Next round from the loop, not from this callback, which may run inside the write.
                schedule(connection, on: channel, metrics: metrics)
            case .failure:
                connection.flushFailed()
            }
        }
    }
}
