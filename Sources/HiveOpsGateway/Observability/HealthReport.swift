package import GeneratedMessages

/// The gateway's release version, reported by `/health`.
package enum GatewayVersion {
    package static let current = "0.1.0"
}

package struct HealthReport: Sendable, Codable, Equatable {
    package struct Summary: Sendable, Codable, Equatable {
        package var healthy: Int
        package var unhealthy: Int
        package var total: Int
    }

    package var status: ComponentHealth.Status
    package var version: String
    package var wsContractVersion: String
    package var timestamp: String
    package var components: [String: ComponentHealth]
    package var summary: Summary

    enum CodingKeys: String, CodingKey {
        case status, version, timestamp, components, summary
        case wsContractVersion = "ws_contract_version"
    }

    /// The report as `request_data` `system_health` data, in the HiveOps shape.
    package var jsonObject: [String: JSONValue] {
        var components: [String: JSONValue] = [:]
        for (name, component) in self.components {
            var entry: [String: JSONValue] = ["status": .string(component.status.rawValue)]
            if let detail = component.detail { entry["detail"] = .string(detail) }
            if let lastError = component.lastError { entry["last_error"] = .string(lastError) }
            components[name] = .object(entry)
        }
        return [
            "overall_status": .string(status.rawValue),
            "components": .object(components),
            "timestamp": .string(timestamp),
        ]
    }
}
