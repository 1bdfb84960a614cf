package import HTTPTypes
import Hummingbird
package import HummingbirdCore
package import NIOHTTP1

/// What the gateway reads from a WebSocket upgrade request (or a plain GET of a WebSocket path).
package struct UpgradeRequest: Sendable {
    package var path: String
    package var query: FlatDictionary<Substring, Substring>
    package var headers: HTTPFields

    package init(path: String, query: FlatDictionary<Substring, Substring>, headers: HTTPFields) {
        self.path = path
        self.query = query
        self.headers = headers
    }

    /// The upgrade request as NIO's HTTP/1 decoder read it.
    package init(_ head: HTTPRequestHead) {
        let uri = URI(head.uri)
        var fields = HTTPFields()
        fields.reserveCapacity(head.headers.count)
        for (name, value) in head.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        self.init(path: uri.path, query: uri.queryParameters, headers: fields)
    }

    /// The `access_token` query parameter, if any.
    var queryToken: String? { query["access_token"].map(String.init) }
}
