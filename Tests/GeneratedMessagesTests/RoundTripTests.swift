import Foundation
import GeneratedMessages
import Testing

/// Every fixture frame decodes into the case its file name names, and
/// re-encodes to an equal JSON value: nothing is lost, unknown parts included.
@Suite struct RoundTripTests {
    static let framesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appending(path: "Fixtures/frames")

    static func fixtures(_ folder: String) -> [String] {
        let directory = framesDirectory.appending(path: folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { "\(folder)/\($0)" }
    }

    static let serverFixtures = fixtures("server") + fixtures("tolerated/server")
    static let clientFixtures = fixtures("client") + fixtures("tolerated/client")

    /// `server/error.invalid-subscriptions.json` → `error`.
    static func expectedType(_ fixture: String) -> String {
        String(fixture.split(separator: "/").last!.split(separator: ".").first!)
    }

    static func load(_ fixture: String) throws -> Data {
        try Data(contentsOf: framesDirectory.appending(path: fixture))
    }

    @Test func everyServerFrameTypeHasAFixture() {
        let types = Set(Self.fixtures("server").map(Self.expectedType))
        let required: Set<String> = [
            "connection_established", "dashboard_initialized", "subscription_updated", "pong", "error",
            "data_response", "data_error", "disconnect_notice", "agent_update", "coordination_update",
            "task_update", "system_update", "critical_alert", "system_event", "agent_event", "project_index_event",
        ]
        #expect(types.isSuperset(of: required), "missing: \(required.subtracting(types).sorted())")
        let clientTypes = Set(Self.fixtures("client").map(Self.expectedType))
        #expect(clientTypes == ["ping", "subscribe", "unsubscribe", "request_data"])
    }

    @Test(arguments: serverFixtures)
    func serverFrame(_ fixture: String) throws {
        let data = try Self.load(fixture)
        let message = try JSONDecoder().decode(ServerMessage.self, from: data)
        let expected = Self.expectedType(fixture)
        if expected == "unknown" {
            guard case .unknown = message else {
                Issue.record("\(fixture) decoded as \(message.type), expected unknown")
                return
            }
        } else {
            #expect(message.type == expected)
            if case .unknown = message { Issue.record("\(fixture) decoded as unknown") }
        }
        // The member table agrees with decoding: a frame's member is the one its type selects.
        #expect(message.member == ServerMessage.Member(tag: message.type))
        if let member = message.member {
            #expect(member.tag.map { $0 == message.type } ?? message.type.matchesPattern(member.tagPattern ?? ""))
        }
        try expectLossless(message, original: data)
    }

    @Test(arguments: clientFixtures)
    func clientFrame(_ fixture: String) throws {
        let data = try Self.load(fixture)
        let message = try JSONDecoder().decode(ClientMessage.self, from: data)
        let expected = Self.expectedType(fixture)
        if expected == "unknown" {
            guard case .unknown = message else {
                Issue.record("\(fixture) decoded as \(message.type), expected unknown")
                return
            }
        } else {
            #expect(message.type == expected)
        }
        try expectLossless(message, original: data)
    }

    /// The root type takes any frame; which direction it is does not depend on the order of the
    /// root's `oneOf` (a client frame also decodes as an unknown server frame).
    @Test(arguments: fixtures("server") + fixtures("client"))
    func anyFrameDecodesAsTheRootTypeInItsDirection(_ fixture: String) throws {
        let data = try Self.load(fixture)
        let frame = try JSONDecoder().decode(HiveOpsWebSocketFrame.self, from: data)
        let known = Self.expectedType(fixture) != "unknown"
        switch frame {
        case .server(let message):
            #expect(fixture.hasPrefix("server/") || !known, "\(fixture) decoded as a server frame")
            if known, case .unknown = message { Issue.record("\(fixture) decoded as an unknown server frame") }
        case .client(let message):
            #expect(fixture.hasPrefix("client/"), "\(fixture) decoded as a client frame")
            if known, case .unknown = message { Issue.record("\(fixture) decoded as an unknown client frame") }
        }
        try expectLossless(frame, original: data)
    }

    private func expectLossless(_ message: some Codable & Equatable, original: Data) throws {
        let encoded = try JSONEncoder().encode(message)
        #expect(try JSONDecoder().decode(JSONValue.self, from: encoded) == JSONDecoder().decode(JSONValue.self, from: original))
        #expect(try JSONDecoder().decode(type(of: message), from: encoded) == message)
    }

    @Test func specificCasesDecodeIntoTheRightMembers() throws {
        let update = try JSONDecoder().decode(ServerMessage.self, from: Self.load("server/agent_update.json"))
        guard case .update(let agentUpdate) = update else {
            Issue.record("agent_update is not .update")
            return
        }
        #expect(agentUpdate.subscription == .agents)
        #expect(agentUpdate.correlationId == "evt-1001")

        let legacy = try JSONDecoder().decode(ServerMessage.self, from: Self.load("tolerated/server/disconnect_notice.hiveops-1.0.0-admin-text.json"))
        guard case .disconnectNotice(let notice) = legacy else {
            Issue.record("legacy notice is not .disconnectNotice")
            return
        }
        #expect(notice.reason == .unknown("maintenance window"))
        #expect(notice.reason.rawValue == "maintenance window")

        let future = try JSONDecoder().decode(
            ServerMessage.self,
            from: Self.load("tolerated/server/connection_established.forward-compatible.json")
        )
        guard case .connectionEstablished(let established) = future else {
            Issue.record("forward-compatible frame is not .connectionEstablished")
            return
        }
        #expect(established.subscriptions == [.agents, .unknown("holograms")])
        #expect(established.additionalProperties["region"] == "eu-west")
    }

    @Test func encodingAlwaysWritesTheTag() throws {
        let pong = Pong(correlationId: "c-1", timestamp: "2026-11-27T00:00:00Z")
        let object = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(ServerMessage.pong(pong)))
        #expect(object["type"] == "pong")
        #expect(object["correlation_id"] == "c-1")
    }

    @Test func aWrongTagIsADecodingError() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Pong.self, from: Data(#"{"type": "ping", "correlation_id": "x", "timestamp": "t"}"#.utf8))
        }
    }

    @Test func aMistypedOptionalMemberDecodesAsAbsentAndIsKeptAsSent() throws {
        let decoded = try JSONDecoder().decode(ClientMessage.self, from: Self.load("tolerated/client/subscribe.mistyped-members.json"))
        guard case .subscribe(let subscribe) = decoded else {
            Issue.record("decoded as \(decoded.type)")
            return
        }
        #expect(subscribe.subscriptions == nil)
        #expect(subscribe.correlationId == nil)
        #expect(subscribe.additionalProperties["subscriptions"] == [5, "agents"])
        #expect(subscribe.additionalProperties["correlation_id"] == ["not": "a string"])

        // The PWA's heartbeat: `client_time` is a number, one of the schema's alternatives.
        guard case .ping(let ping) = try JSONDecoder().decode(ClientMessage.self, from: Self.load("client/ping.pwa.json")) else {
            Issue.record("the PWA's ping is not .ping")
            return
        }
        #expect(ping.clientTime == .number(1_796_185_744_367))
        #expect(ping.additionalProperties.isEmpty)
    }

    @Test func aNullOptionalMemberStaysNullThroughARoundTrip() throws {
        let data = Data(#"{"type":"request_data","data_type":null}"#.utf8)
        let message = try JSONDecoder().decode(ClientMessage.self, from: data)
        guard case .requestData(let request) = message else {
            Issue.record("decoded as \(message.type)")
            return
        }
        #expect(request.dataType == nil)
        try expectLossless(message, original: data)
    }

    @Test func contractVersionIsExposed() {
        #expect(MessageContract.version == "1.2.0")
    }
}

/// The member tables the gateway routes broadcasts by, read off the schema.
@Suite struct MemberTableTests {
    @Test func broadcastMembersFixTheirTopicsAsTheSchemaSays() {
        let topics = Dictionary(
            uniqueKeysWithValues: BroadcastMessage.Member.allCases.compactMap { member in
                member.tag.map { ($0, member.constants["subscription"]) }
            }
        )
        #expect(
            topics == ["critical_alert": "alerts", "system_event": "system", "agent_event": "agents", "project_index_event": "project_index"]
        )
        #expect(BroadcastMessage.Member.update.tagPattern == "^[a-z_]+_update$")
        #expect(BroadcastMessage.Member.update.constants.isEmpty)
        #expect(BroadcastMessage.Member(tag: "pong") == nil)
        #expect(ServerMessage.Member(tag: "pong") == .pong)
        #expect(ServerMessage.Member(tag: "weather_report") == nil)
    }

    @Test func everyMemberRoundTripsThroughItsTag() {
        for member in ServerMessage.Member.allCases {
            if let tag = member.tag { #expect(ServerMessage.Member(tag: tag) == member) }
        }
        #expect(ServerMessage.Member.allCases.filter { $0.tag == nil } == [.update])
    }
}

/// `JSONValue` decodes every kind as itself, and an error inside an object where it is.
@Suite struct JSONValueDecodingTests {
    @Test func everyKindDecodesAsItselfAtAnyDepth() throws {
        let text = #"{"s":"1","i":1,"d":1.5,"b":true,"n":null,"a":[1,"x",{"k":false},[]],"o":{"e":{}},"big":9007199254740993}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        let expected: JSONValue = [
            "s": "1", "i": 1, "d": 1.5, "b": true, "n": nil, "a": [1, "x", ["k": false], []], "o": ["e": [:]], "big": .integer(9_007_199_254_740_993),
        ]
        #expect(value == expected)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data("[]".utf8)) == [])
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data("false".utf8)) == false)
    }

    @Test func aValueInsideAnObjectThatDecodesAsNothingIsReportedWhereItIs() throws {
        // A number no Double holds is none of the kinds: the error names the member, not the object.
        let error = #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(JSONValue.self, from: Data(#"{"outer":{"inner":1e400}}"#.utf8))
        }
        let context: DecodingError.Context? =
            switch error {
            case .typeMismatch(_, let context), .dataCorrupted(let context), .keyNotFound(_, let context), .valueNotFound(_, let context): context
            default: nil
            }
        #expect(context?.codingPath.map(\.stringValue) == ["outer", "inner"])
    }
}
