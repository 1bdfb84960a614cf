import Foundation
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

    package var type: String
    package var subscription: Subscription
    package var data: [String: JSONValue]
    package var correlationId: String?
    /// The schema's member of ``BroadcastMessage`` that `type` selects.
    package var member: BroadcastMessage.Member
    /// `data` decoded, for the one member whose data the schema gives a shape.
    private var alertData: CriticalAlertData?

    /// Validates the topic, the type and the data against the schema's ``BroadcastMessage``.
    package init(type: String, subscription: String, data: [String: JSONValue], correlationId: String?) throws(Invalid) {
        let topic = Subscription(rawValue: subscription)
        if case .unknown = topic { throw .unknownTopic(subscription) }
        guard let member = BroadcastMessage.Member(tag: type) else { throw .unknownType(type) }
        if let required = member.requiredTopic, required != topic { throw .wrongTopic(type: type, expected: required) }
        if member == .criticalAlert {
            do {
                alertData = try JSONDecoder().decode(CriticalAlertData.self, from: JSONEncoder().encode(data))
            } catch {
                throw .invalidData("\(type) \(DecodingErrorDescription.describe(error, root: "data"))")
            }
        }
        self.type = type
        self.subscription = topic
        self.data = data
        self.correlationId = correlationId.flatMap(InboundProcessor.echoable)
        self.member = member
    }

    /// An event of a member whose topic the schema fixes (`system_event`, `agent_event`, ...).
    package init(_ member: BroadcastMessage.Member, data: [String: JSONValue], correlationId: String?) throws(Invalid) {
        guard let type = member.tag, let topic = member.requiredTopic else { preconditionFailure("\(member) has no fixed type and topic") }
        try self.init(type: type, subscription: topic.rawValue, data: data, correlationId: correlationId)
    }

    /// Whether the event is of the `*_update` family, whose last data a new dashboard is sent.
    package var isUpdate: Bool { member == .update }

    /// The typed server message for this event, at its place in the topic's history when it has one.
    package func message(correlationId: String, timestamp: String, position: StreamPosition? = nil) -> ServerMessage {
        let (offset, epoch) = (position?.offset, position?.epoch)
        return switch member {
        case .criticalAlert:
            .criticalAlert(
                CriticalAlert(
                    data: alertData ?? CriticalAlertData(alerts: []),
                    correlationId: correlationId,
                    timestamp: timestamp,
                    offset: offset,
                    epoch: epoch
                )
            )
        case .systemEvent:
            .systemEvent(SystemEvent(data: data, correlationId: correlationId, timestamp: timestamp, offset: offset, epoch: epoch))
        case .agentEvent:
            .agentEvent(AgentEvent(data: data, correlationId: correlationId, timestamp: timestamp, offset: offset, epoch: epoch))
        case .projectIndexEvent:
            .projectIndexEvent(ProjectIndexEvent(data: data, correlationId: correlationId, timestamp: timestamp, offset: offset, epoch: epoch))
        case .update:
            .update(
                UpdateMessage(
                    type: type,
                    subscription: subscription,
                    data: data,
                    correlationId: correlationId,
                    timestamp: timestamp,
                    offset: offset,
                    epoch: epoch
                )
            )
        }
    }
}

extension BroadcastMessage.Member {
    /// The topic the schema fixes for the member (its `subscription` constant); nil for the
    /// `*_update` family, which goes to the topic its producer names.
    package var requiredTopic: Subscription? {
        constants["subscription"].map(Subscription.init(rawValue:))
    }
}
