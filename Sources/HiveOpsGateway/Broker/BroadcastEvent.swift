package import GeneratedMessages

/// An event for every subscriber of one topic, from a producer (Redis) or an
/// operator (the REST broadcast endpoint), before it becomes a frame.
package struct BroadcastEvent: Sendable, Equatable {
    package enum Invalid: Error, Equatable, CustomStringConvertible {
        case unknownTopic(String)
        case unknownType(String)
        case wrongTopic(type: String, expected: Subscription)
        case invalidData(String)

        package var description: String {
            switch self {
            case .unknownTopic(let topic): "Unknown subscription: \(topic)"
            case .unknownType(let type): "Message type \(type) cannot be broadcast"
            case .wrongTopic(let type, let expected): "Message type \(type) goes to subscription \(expected.rawValue)"
            case .invalidData(let reason): "Invalid data: \(reason)"
            }
        }
    }

    /// The frame types a broadcast may carry besides the `*_update` family, and the topic each requires.
    package static let fixedTopicTypes: [String: Subscription] = [
        "critical_alert": .alerts,
        "system_event": .system,
        "agent_event": .agents,
        "project_index_event": .projectIndex,
    ]

    package static let updatePattern = "^[a-z_]+_update$"

    package var type: String
    package var subscription: Subscription
    package var data: [String: JSONValue]
    package var correlationId: String?

    /// Validates the topic and the type against the contract.
    package init(type: String, subscription: String, data: [String: JSONValue], correlationId: String?) throws(Invalid) {
        let topic = Subscription(rawValue: subscription)
        if case .unknown = topic { throw .unknownTopic(subscription) }
        if let required = Self.fixedTopicTypes[type] {
            guard required == topic else { throw .wrongTopic(type: type, expected: required) }
        } else if !Self.isUpdateType(type) {
            throw .unknownType(type)
        }
        if type == "critical_alert" {
            guard let alerts = data["alerts"]?.arrayValue, alerts.allSatisfy({ $0.objectValue != nil }) else {
                throw .invalidData("critical_alert needs data.alerts, an array of objects")
            }
        }
        self.type = type
        self.subscription = topic
        self.data = data
        self.correlationId = correlationId.flatMap(InboundProcessor.echoable)
    }

    package var isUpdate: Bool { Self.fixedTopicTypes[type] == nil }

    /// `^[a-z_]+_update$`, the schema's pattern for the update family, checked by hand on this hot path.
    package static func isUpdateType(_ type: String) -> Bool {
        type.utf8.count > "_update".utf8.count && type.hasSuffix("_update")
            && type.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || $0 == UInt8(ascii: "_") }
    }

    /// The typed server message for this event.
    package func message(correlationId: String, timestamp: String) -> ServerMessage {
        switch type {
        case "critical_alert":
            var rest = data
            rest["alerts"] = nil
            rest["timestamp"] = nil
            let alerts = (data["alerts"]?.arrayValue ?? []).compactMap(\.objectValue)
            return .criticalAlert(
                CriticalAlert(
                    data: CriticalAlertData(alerts: alerts, timestamp: data["timestamp"]?.stringValue, additionalProperties: rest),
                    correlationId: correlationId,
                    timestamp: timestamp
                )
            )
        case "system_event":
            return .systemEvent(SystemEvent(data: data, correlationId: correlationId, timestamp: timestamp))
        case "agent_event":
            return .agentEvent(AgentEvent(data: data, correlationId: correlationId, timestamp: timestamp))
        case "project_index_event":
            return .projectIndexEvent(ProjectIndexEvent(data: data, correlationId: correlationId, timestamp: timestamp))
        default:
            return .update(UpdateMessage(type: type, subscription: subscription, data: data, correlationId: correlationId, timestamp: timestamp))
        }
    }
}
