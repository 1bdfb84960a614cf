/// The health of one part of the gateway, as `/health` reports it.
package struct ComponentHealth: Sendable, Codable, Equatable {
    package enum Status: String, Sendable, Codable, Comparable {
        case healthy
        case degraded
        case unhealthy

        private var rank: Int {
            switch self {
            case .healthy: 0
            case .degraded: 1
            case .unhealthy: 2
            }
        }

        package static func < (lhs: Status, rhs: Status) -> Bool { lhs.rank < rhs.rank }
    }

    package var status: Status
    package var detail: String?
    package var lastError: String?

    package init(status: Status, detail: String? = nil, lastError: String? = nil) {
        self.status = status
        self.detail = detail
        self.lastError = lastError
    }

    enum CodingKeys: String, CodingKey {
        case status, detail
        case lastError = "last_error"
    }
}
