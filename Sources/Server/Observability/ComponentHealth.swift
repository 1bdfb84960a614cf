/// The health of one part of the gateway, as `/health` reports it.
public struct ComponentHealth: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable, Comparable {
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

        public static func < (lhs: Status, rhs: Status) -> Bool { lhs.rank < rhs.rank }
    }

    public var status: Status
    public var detail: String?
    public var lastError: String?

    public init(status: Status, detail: String? = nil, lastError: String? = nil) {
        self.status = status
        self.detail = detail
        self.lastError = lastError
    }

    enum CodingKeys: String, CodingKey {
        case status, detail
        case lastError = "last_error"
    }
}
