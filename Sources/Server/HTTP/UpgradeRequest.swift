public import HTTPTypes
public import Hummingbird
public import HummingbirdCore

/// What the gateway reads from a WebSocket upgrade request (or a plain GET of a WebSocket path).
public struct UpgradeRequest: Sendable {
    public var path: String
    public var query: FlatDictionary<Substring, Substring>
    public var headers: HTTPFields

    public init(path: String, query: FlatDictionary<Substring, Substring>, headers: HTTPFields) {
        self.path = path
        self.query = query
        self.headers = headers
    }

    public init(_ request: HTTPRequest) {
        let uri = URI(request.path ?? "/")
        self.init(path: uri.path, query: uri.queryParameters, headers: request.headerFields)
    }

    /// The `access_token` query parameter, if any.
    var queryToken: String? { query["access_token"].map(String.init) }
}
