import GeneratedMessages

extension ConnectionSession {
    /// What every dashboard connection shares: built once with the application, held by reference,
    /// so opening a connection copies no configuration.
    final class Dependencies: Sendable {
        let configuration: GatewayConfiguration
        let manager: ConnectionManager
        let metrics: GatewayMetrics
        let requestedData: RequestedData
        /// Positions and recoveries: this node's log, and the shared history with Redis.
        let history: EventHistory
        let encoder = FrameEncoder()
        /// The shared zlib streams of every permessage-deflate connection.
        let compression: MessageCompression

        init(
            configuration: GatewayConfiguration,
            manager: ConnectionManager,
            metrics: GatewayMetrics,
            requestedData: RequestedData,
            history: EventHistory
        ) {
            self.configuration = configuration
            self.manager = manager
            self.metrics = metrics
            self.requestedData = requestedData
            self.history = history
            self.compression = MessageCompression(thresholdBytes: configuration.compression.thresholdBytes, metrics: metrics)
        }
    }
}
