import Foundation
import RedisClient

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Publishes numbered, timestamped events: through Redis (`hiveops:ws:broadcast` or
/// `system_events`) or the REST broadcast endpoint.
struct Publisher {
    enum Route: String, CaseIterable, Sendable {
        case redisBroadcast = "redis-broadcast"
        case redisSystemEvents = "redis-system-events"
        case rest
    }

    let route: Route
    let topic: String
    let updateType: String
    let payloadBytes: Int
    let gatewayBaseURL: String
    let redis: RedisConnection?

    /// The frame type clients will receive.
    var eventType: String { route == .redisSystemEvents ? "system_event" : updateType }

    /// The event's `data`, padded so the whole data object is about `payloadBytes`.
    func data(sequence: Int) -> String {
        let head = #"{"seq":\#(sequence),"t":\#(MonotonicClock.nanoseconds()),"pad":""#
        let padding = max(0, payloadBytes - head.utf8.count - 2)
        return head + String(repeating: "x", count: padding) + #""}"#
    }

    /// Publishes events `first...last` as one batch (pipelined through Redis).
    func publish(_ sequences: ClosedRange<Int>) async throws {
        switch route {
        case .redisBroadcast:
            let commands = sequences.map {
                ["PUBLISH", "hiveops:ws:broadcast", #"{"subscription":"\#(topic)","type":"\#(updateType)","data":\#(data(sequence: $0))}"#]
            }
            _ = try await redis!.pipeline(commands)
        case .redisSystemEvents:
            _ = try await redis!.pipeline(sequences.map { ["PUBLISH", "system_events", data(sequence: $0)] })
        case .rest:
            for sequence in sequences {
                var request = URLRequest(
                    url: URL(string: "\(gatewayBaseURL)/api/dashboard/websocket/broadcast?subscription=\(topic)&message_type=\(updateType)")!
                )
                request.httpMethod = "POST"
                request.httpBody = Data(data(sequence: sequence).utf8)
                _ = try await URLSession.shared.data(for: request)
            }
        }
    }
}
