import Foundation

/// One run's results, as a table or one JSON record.
struct Report: Codable, Sendable {
    var connections: Int
    var connectFailures: Int
    var connectRate: Double
    var stalled: Int
    var publisher: String
    var payloadBytes: Int
    /// Whether the load connections offered permessage-deflate (`--compression`).
    var compression = false
    /// How the load connections read (`--reader`): nio or raw.
    var reader = "nio"
    var gatewayBaseline: ProcessSample?
    var gatewayAfterConnect: ProcessSample?
    var gatewayBytesPerConnection: Int?
    var published = 0
    var publishSeconds = 0.0
    var publishRate = 0.0
    /// The rate asked for; 0 is the closed loop.
    var requestedRate = 0.0
    /// The share of the publishing time the closed loop spent waiting for the slowest connection.
    var gatewayWaitFraction = 0.0
    var delivered = 0
    var lost = 0
    var outOfOrder = 0
    var disconnectedHealthy = 0
    var disconnectedStalled = 0
    var latency: LatencyRecorder.Summary?
    var gatewayAfterRun: ProcessSample?
    /// This load generator's own CPU, over the same span as the gateway's: when it spends more per
    /// frame than the server, on shared cores it, not the server, sets the latencies.
    var loadGeneratorCpuSeconds: Double?

    var deliveredPerSecond: Double { publishSeconds > 0 ? Double(delivered) / publishSeconds : 0 }

    /// A recovery run (`--recover-events`): every connection opened at once, each replaying the same events.
    struct Recovery: Codable, Sendable {
        var events: Int
        var clients: Int
        /// Connections that received every replayed event.
        var complete: Int
        var outOfOrder: Int
        /// From the first connect until the last connection had every event.
        var seconds: Double
        /// The gateway's CPU over the same span (handshakes included).
        var gatewayCpuSeconds: Double?
        var gatewayResidentBytes: Int?

        var replayedPerSecond: Double { seconds > 0 ? Double(complete * events) / seconds : 0 }

        func json() -> String {
            Report.record(self, adding: ["replayed_per_second": replayedPerSecond])
        }

        func table() -> String {
            let cpu = gatewayCpuSeconds.map { String(format: "%.2f s, %.2f µs per replayed frame", $0, $0 / Double(max(1, complete * events)) * 1e6) }
            return [
                "recovered      \(complete) of \(clients) connections × \(events) events (\(outOfOrder) out of order)",
                String(format: "took           %.2f s (%.0f replayed frames/s)", seconds, replayedPerSecond),
                "gateway CPU    \(cpu ?? "n/a")",
            ].joined(separator: "\n")
        }
    }

    /// Whether the publisher, not the gateway, set the pace.
    var publisherLimited: Bool {
        Self.publisherWasTheLimit(requestedRate: requestedRate, publishRate: publishRate, gatewayWaitFraction: gatewayWaitFraction)
    }

    /// At a fixed rate: it published less than 95% of the rate asked. In the closed loop: the
    /// gateway made it wait less than 5% of the time, so the gateway could have taken more.
    static func publisherWasTheLimit(requestedRate: Double, publishRate: Double, gatewayWaitFraction: Double) -> Bool {
        requestedRate > 0 ? publishRate < 0.95 * requestedRate : gatewayWaitFraction < 0.05
    }

    func json() -> String {
        Self.record(self, adding: ["delivered_per_second": deliveredPerSecond, "publisher_limited": publisherLimited])
    }

    /// One JSON record, snake_case keys sorted, with the computed figures added.
    static func record(_ value: some Encodable, adding computed: [String: Any]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        var object = (try? JSONSerialization.jsonObject(with: encoder.encode(value))) as? [String: Any] ?? [:]
        object.merge(computed) { $1 }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    func table() -> String {
        func mib(_ bytes: Int?) -> String { bytes.map { String(format: "%.1f MiB", Double($0) / 1_048_576) } ?? "n/a" }
        var rows: [(String, String)] = [
            (
                "connections",
                "\(connections) (\(connectFailures) failed, \(String(format: "%.0f", connectRate))/s, \(stalled) stalled)"
                    + (compression ? ", permessage-deflate offered" : "")
                    + (reader == "nio" ? "" : ", \(reader) reader")
            ),
            (
                "gateway memory",
                "\(mib(gatewayBaseline?.residentBytes)) idle → \(mib(gatewayAfterConnect?.residentBytes)) connected → \(mib(gatewayAfterRun?.residentBytes)) after the run"
            ),
            ("memory per connection", gatewayBytesPerConnection.map { "\($0) bytes" } ?? "n/a"),
        ]
        if published > 0 {
            rows += [
                (
                    "published",
                    "\(published) events of ~\(payloadBytes) B via \(publisher) in \(String(format: "%.1f", publishSeconds)) s (\(String(format: "%.0f", publishRate))/s)"
                ),
                ("delivered", "\(delivered) frames, \(String(format: "%.0f", deliveredPerSecond)) frames/s"),
                (
                    "limited by",
                    publisherLimited
                        ? "the publisher (not the gateway): its figures are a floor of the gateway's"
                        : requestedRate > 0 ? "the rate asked (the publisher kept it)" : "the gateway"
                ),
                ("lost / out of order", "\(lost) / \(outOfOrder) (healthy connections)"),
                ("disconnected", "\(disconnectedHealthy) healthy, \(disconnectedStalled) of \(stalled) stalled"),
            ]
            if let latency {
                rows.append(
                    (
                        "latency p50 / p90 / p99 / p99.9 / max",
                        String(
                            format: "%.2f / %.2f / %.2f / %.2f / %.2f ms",
                            latency.p50Ms,
                            latency.p90Ms,
                            latency.p99Ms,
                            latency.p999Ms,
                            latency.maxMs
                        )
                    )
                )
            }
            if let before = gatewayAfterConnect, let after = gatewayAfterRun {
                rows.append(("gateway CPU during the run", String(format: "%.1f s", after.cpuSeconds - before.cpuSeconds)))
            }
            if let loadGeneratorCpuSeconds {
                let perFrame = loadGeneratorCpuSeconds / Double(max(1, delivered)) * 1e6
                rows.append(("load generator CPU", String(format: "%.1f s, %.2f µs per delivered frame", loadGeneratorCpuSeconds, perFrame)))
            }
        }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }
}
