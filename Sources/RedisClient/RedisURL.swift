/// `redis://[user:password@]host:port[/db]`, parsed strictly so that a typo is
/// refused at start-up rather than discovered as a connection failure.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case invalid(String)

        public var description: String {
            switch self {
            case .invalid(let reason): "invalid Redis URL: \(reason) (expected redis://[user:password@]host:port[/db])"
            }
        }
    }

    public var host: String
    public var port: Int
    public var user: String?
    public var password: String?
    public var database: Int

    public init(host: String, port: Int = 6379, user: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    public init(parsing text: String) throws(ParseError) {
        guard text.hasPrefix("redis://") else { throw .invalid("the scheme must be redis://") }
        var rest = Substring(text.dropFirst("redis://".count))
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let name = credentials[..<colon]
                user = name.isEmpty ? nil : try Self.percentDecoded(name)
                password = try Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                password = try Self.percentDecoded(credentials)
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else { throw .invalid("the database must be a number") }
                database = number
            }
        }
        guard let colon = rest.lastIndex(of: ":") else { throw .invalid("a port is required") }
        let host = String(rest[..<colon])
        guard !host.isEmpty else { throw .invalid("a host is required") }
        guard let port = Int(rest[rest.index(after: colon)...]), (1...65_535).contains(port) else {
            throw .invalid("the port must be 1-65535")
        }
        self.init(host: host, port: port, user: user, password: password, database: database)
    }

    private static func percentDecoded(_ text: Substring) throws(ParseError) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(), let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { throw .invalid("bad percent-encoding in the credentials") }
            bytes.append(value)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The URL with the password masked: what logs may show.
    public var description: String {
        let credentials =
            switch (user, password) {
            case (let user?, _?): "\(user):***@"
            case (nil, _?): ":***@"
            case (let user?, nil): "\(user)@"
            case (nil, nil): ""
            }
        return "redis://\(credentials)\(host):\(port)/\(database)"
    }
}
