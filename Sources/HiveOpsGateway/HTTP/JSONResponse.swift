import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// Encodes a value as a JSON response with the given status.
struct JSONResponse<Value: Encodable & Sendable>: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    var value: Value

    init(status: HTTPResponse.Status = .ok, _ value: Value) {
        self.status = status
        self.value = value
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let buffer = try encoder.encodeAsByteBuffer(value, allocator: ByteBufferAllocator())
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: buffer)
        )
    }
}

/// `{"detail": "..."}`, the error body of every endpoint (FastAPI's shape).
struct ErrorBody: Encodable, Sendable {
    var detail: String
    var validSubscriptions: [String]?
    var validMessageTypes: [String]?

    enum CodingKeys: String, CodingKey {
        case detail
        case validSubscriptions = "valid_subscriptions"
        case validMessageTypes = "valid_message_types"
    }
}
