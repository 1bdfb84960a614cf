import Foundation
import GeneratedMessages
import HiveOpsGateway
import Testing

@Suite struct FrameEncoderTests {
    @Test func correlationIdsAreLowercaseUUIDv4AndUnique() {
        let ids = (0..<1_000).map { _ in FrameEncoder.newCorrelationId() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(100) {
            #expect(id.wholeMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/) != nil, "\(id)")
            #expect(UUID(uuidString: id) != nil)
        }
    }

    @Test func timestampsAreUTCWithMillisecondsAndZ() {
        let timestamp = FrameEncoder.timestamp(Date(timeIntervalSince1970: 1_795_758_536.584))
        #expect(timestamp == "2026-11-27T05:48:56.584Z")
    }
}
