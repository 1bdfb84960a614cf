import Foundation
import GeneratedMessages
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Whether a gateway's Redis listener is subscribed, as its `/health` says: the one probe the Redis
/// tests wait on, for an in-process gateway and a gateway process alike.
enum RedisListenerProbe {
    /// Waits (bounded) until the gateway on `port` reports Redis healthy; returns how long it took.
    @discardableResult
    static func waitUntilSubscribed(port: Int, within limit: Duration = .seconds(10)) async throws -> Duration {
        let started = ContinuousClock.now
        let url = URL(string: "http://127.0.0.1:\(port)/health")!
        while started.duration(to: .now) < limit {
            let (data, _) = try await URLSession.shared.data(from: url)
            if try JSONDecoder().decode(JSONValue.self, from: data)["components"]?["redis"]?["status"] == "healthy" {
                return started.duration(to: .now)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("the Redis listener of the gateway on port \(port) did not subscribe within \(limit)")
    }
}
