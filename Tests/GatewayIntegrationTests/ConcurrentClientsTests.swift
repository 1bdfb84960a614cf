import GatewayClient
import HiveOpsGateway
import Testing

/// Many clients at once: every one is greeted and served.
@Suite struct ConcurrentClientsTests {
    @Test func fortyClientsAtOnceAreAllGreetedAndServed() async throws {
        try await TestGateway.with { gateway in
            try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let client = try await gateway.connect(.system)
                        do {
                            _ = try await client.receive(timeout: .seconds(3))
                        } catch {
                            return "\(index): no greeting, pending=\(client.pendingFrames)"
                        }
                        try await client.send(text: #"{"type":"ping"}"#)
                        do {
                            _ = try await client.receive(timeout: .seconds(3))
                        } catch {
                            return "\(index): no pong"
                        }
                        return "ok"
                    }
                }
                var failures: [String] = []
                for try await result in group where result != "ok" { failures.append(result) }
                #expect(failures == [])
            }
        }
    }
}
