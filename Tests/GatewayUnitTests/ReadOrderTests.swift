import GeneratedMessages
import Testing

@testable import HiveOpsGateway

/// The Redis listener's events go out in the order they were read, whatever order their records'
/// answers are handled in.
@Suite struct ReadOrderTests {
    func relayed(_ sequence: Int) throws -> RedisEventBus.Relayed {
        RedisEventBus.Relayed(
            action: .deliver,
            event: try BroadcastEvent(type: "system_update", subscription: "system", data: ["seq": .integer(sequence)], correlationId: nil),
            receivedAt: .now,
            dequeuedAt: .now
        )
    }

    func sequences(_ run: [(RedisEventBus.Relayed, StreamPosition?)]) -> [Int] {
        run.compactMap { item in
            guard case .integer(let sequence) = item.0.event.data["seq"] else { return nil }
            return sequence
        }
    }

    @Test func anEventWaitsForEveryEventReadBeforeIt() throws {
        let order = ReadOrder()
        let numbers = (0..<4).map { _ in order.take() }
        #expect(numbers == [0, 1, 2, 3])
        #expect(sequences(order.ready(1, try relayed(1), at: nil)).isEmpty, "0 has not gone yet")
        #expect(sequences(order.ready(3, try relayed(3), at: nil)).isEmpty)
        #expect(sequences(order.ready(0, try relayed(0), at: nil)) == [0, 1])
        #expect(sequences(order.ready(2, try relayed(2), at: StreamPosition(epoch: "e", offset: 9))) == [2, 3])
    }
}
