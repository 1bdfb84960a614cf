import Foundation
import GatewayClient
import GeneratedMessages
import HiveOpsGateway
import Logging
import Prometheus
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real gateway on a free loopback port, in this process, for one test.
struct TestGateway {
    let port: Int
    let application: GatewayApplication

    static func configuration(_ adjust: (inout GatewayConfiguration) -> Void = { _ in }) -> GatewayConfiguration {
        var configuration = GatewayConfiguration(port: 0)
        adjust(&configuration)
        return configuration
    }

    /// Starts a gateway, runs `body`, then stops the gateway.
    static func with<T: Sendable>(
        _ configuration: GatewayConfiguration = configuration(),
        _ body: @Sendable (TestGateway) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "test-gateway")
        logger.logLevel = ProcessInfo.processInfo.environment["GATEWAY_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let application = try buildApplication(configuration: configuration, logger: logger, registry: PrometheusCollectorRegistry()) { port in
            portContinuation.yield(port)
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await application.run(gracefulShutdownSignals: []) }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw TestFailure("the gateway did not start") }
            let gateway = TestGateway(port: port, application: application)
            do {
                let result = try await body(gateway)
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    func connect(_ endpoint: DashboardEndpoint = .dashboard, query: String = "", headers: [(String, String)] = []) async throws -> WebSocketClient {
        try await WebSocketClient.connect(port: port, path: endpoint.path + (query.isEmpty ? "" : "?" + query), headers: headers)
    }

    /// Connects and takes the greeting: `connection_established`, and `dashboard_initialized` on the dashboard.
    func connectAndGreet(_ endpoint: DashboardEndpoint = .dashboard, query: String = "") async throws -> (WebSocketClient, ConnectionEstablished) {
        let client = try await connect(endpoint, query: query)
        guard case .connectionEstablished(let established) = try await client.receiveMessage() else {
            throw TestFailure("the first frame is not connection_established")
        }
        if endpoint.isDashboard {
            guard case .dashboardInitialized = try await client.receiveMessage() else {
                throw TestFailure("the second frame is not dashboard_initialized")
            }
        }
        return (client, established)
    }

    struct HTTPResult: Sendable {
        var status: Int
        var body: Data
        var contentType: String?

        func json() throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: body) }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func request(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws -> HTTPResult {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.httpBody = body.map { Data($0.utf8) }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return HTTPResult(status: http.statusCode, body: data, contentType: http.value(forHTTPHeaderField: "Content-Type"))
    }

    /// The current value of one WebSocket metric, read through the JSON metrics endpoint.
    /// With auth on, `authorization` must be an admin credential (`Bearer ...`).
    func metric(_ name: String, authorization: String? = nil) async throws -> Double {
        let headers = authorization.map { ["Authorization": $0] } ?? [:]
        let metrics = try await request("GET", "/api/dashboard/metrics/websockets?format=json", headers: headers).json()
        guard case .object(let values) = metrics["metrics"] else { throw TestFailure("no metrics object") }
        switch values[name] {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        default: throw TestFailure("metric \(name) not found")
        }
    }
}
