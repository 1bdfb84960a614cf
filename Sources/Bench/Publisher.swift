import Foundation
import RedisClient

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Publishes numbered, timestamped events: through Redis (`hiveops:ws:broadcast` or
/// `system_events`), the REST broadcast endpoint, or a POST of the whole frame to any URL (a peer
/// such as nchan's publisher location, which sends the body to its subscribers as it is).
struct Publisher {
    enum Route: String, CaseIterable, Sendable {
        case redisBroadcast = "redis-broadcast"
        case redisSystemEvents = "redis-system-events"
        case rest
        case http
    }

    let route: Route
    let topic: String
    let updateType: String
    let payloadBytes: Int
    /// What fills the data past `seq` and `t`: a run of one letter, or a fleet of agent records as
    /// HiveOps publishes them (what compression sees matters for permessage-deflate).
    var payloadShape = PayloadShape.padding
    let gatewayBaseURL: String
    let redis: RedisConnection?
    /// Where the `http` route POSTs each frame.
    var publishURL: URL?

    /// The frame type clients will receive.
    var eventType: String { route == .redisSystemEvents ? "system_event" : updateType }

    enum PayloadShape: String, CaseIterable, Sendable {
        case padding
        case fleet
    }

    /// The event's `data`, filled so the whole data object is about `payloadBytes`.
    func data(sequence: Int) -> String {
        switch payloadShape {
        case .padding:
            let head = #"{"seq":\#(sequence),"t":\#(MonotonicClock.nanoseconds()),"pad":""#
            let padding = max(0, payloadBytes - head.utf8.count - 2)
            return head + String(repeating: "x", count: padding) + #""}"#
        case .fleet:
            var text = #"{"seq":\#(sequence),"t":\#(MonotonicClock.nanoseconds()),"agents":["#
            var index = 0
            while text.utf8.count < payloadBytes - 2 {
                if index > 0 { text += "," }
                let agent = (sequence &* 31 &+ index) % 997
                text +=
                    #"{"id":"agent-\#(agent)","status":"\#(agent % 7 == 0 ? "idle" : "active")","current_task":{"id":"task-\#(1_000 + agent)","#
                    + #""title":"Index the repository and summarise changes","progress":\#(agent * 13 % 100)},"load":0.\#(agent % 10)}"#
                index += 1
            }
            return text + "]}"
        }
    }

    /// The frame a subscriber receives, as the `redis-broadcast` and `http` routes publish it.
    func frame(sequence: Int) -> String {
        #"{"subscription":"\#(topic)","type":"\#(updateType)","data":\#(data(sequence: sequence))}"#
    }

    /// Publishes events `first...last` as one batch (pipelined through Redis; the `http` route
    /// posts them all at once, each on its own request).
    func publish(_ sequences: ClosedRange<Int>) async throws {
        switch route {
        case .redisBroadcast:
            let commands = sequences.map { ["PUBLISH", "hiveops:ws:broadcast", frame(sequence: $0)] }
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
        case .http:
            try await withThrowingTaskGroup(of: Void.self) { requests in
                for sequence in sequences {
                    var request = URLRequest(url: publishURL!)
                    request.httpMethod = "POST"
                    request.setValue("text/plain", forHTTPHeaderField: "Content-Type")
                    request.httpBody = Data(frame(sequence: sequence).utf8)
                    requests.addTask {
                        let (_, response) = try await URLSession.shared.data(for: request)
                        guard let status = (response as? HTTPURLResponse)?.statusCode, (200..<300).contains(status) else {
                            throw PublishError.refused((response as? HTTPURLResponse)?.statusCode ?? 0)
                        }
                    }
                }
                try await requests.waitForAll()
            }
        }
    }
}

enum PublishError: Error, CustomStringConvertible {
    case refused(Int)

    var description: String {
        switch self {
        case .refused(let status): "the publish URL answered HTTP \(status)"
        }
    }
}
