// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "hiveops-gateway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hiveops-gateway", targets: ["GatewayCLI"]),
        .executable(name: "schemagen", targets: ["schemagen"]),
        .executable(name: "hiveops-bench", targets: ["Bench"]),
        .executable(name: "hiveops-microbench", targets: ["MicroBench"]),
        .library(name: "GeneratedMessages", targets: ["GeneratedMessages"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // JWT verification (HS256, ES256, RS256): jwt-kit, on swift-crypto.
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        // The test tokens' signatures, and constant-time comparison; in the graph through jwt-kit.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        // permessage-deflate: a thin Swift layer over the system zlib.
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
    ],
    targets: [
        // The schema-first toolchain: Foundation only, so the plugin builds fast.
        .target(name: "SchemaGen", swiftSettings: swiftSettings),
        .executableTarget(
            name: "schemagen",
            dependencies: ["SchemaGen"],
            path: "Sources/SchemaGenCLI",
            swiftSettings: swiftSettings
        ),
        .plugin(
            name: "GenerateMessages",
            capability: .buildTool(),
            dependencies: ["schemagen"]
        ),
        .target(
            name: "GeneratedMessages",
            swiftSettings: swiftSettings,
            plugins: ["GenerateMessages"]
        ),

        // The gateway: a library, so tests and benchmarks reach its parts, and a thin CLI.
        .target(
            name: "HiveOpsGateway",
            dependencies: [
                "GeneratedMessages",
                "RedisClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "GatewayCLI",
            dependencies: [
                "HiveOpsGateway",
                "RedisClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // A small RESP2/RESP3 client on SwiftNIO: no Redis client is on the package mirror.
        .target(
            name: "RedisClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // A lean NIO WebSocket client for the tests and the load generator (no TLS stack to build).
        .target(
            name: "GatewayClient",
            dependencies: [
                "GeneratedMessages",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Linux's epoll(7) for the load generator's raw reader (Glibc's module leaves it out).
        .systemLibrary(name: "CEpoll", path: "Sources/CEpoll"),
        // The load generator: release builds only for figures.
        .executableTarget(
            name: "Bench",
            dependencies: [
                "CEpoll",
                "GatewayClient",
                "GeneratedMessages",
                "HiveOpsGateway",
                "RedisClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // Micro-benchmarks of the hot paths: a plain release harness (no extra dependency).
        .executableTarget(
            name: "MicroBench",
            dependencies: [
                "HiveOpsGateway",
                "GeneratedMessages",
                "RedisClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),

        // Helpers shared by the test targets: token and frame factories, fuzz inputs, failures.
        .target(
            name: "TestSupport",
            dependencies: [
                "GatewayClient", "GeneratedMessages",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SchemaGenTests",
            dependencies: ["SchemaGen"],
            exclude: ["Snippets", "Expected"],
            swiftSettings: swiftSettings
        ),
        // The gateway's parts without sockets: state machines, rules, encoders, handlers in an EmbeddedChannel.
        .testTarget(
            name: "GatewayUnitTests",
            dependencies: [
                "HiveOpsGateway", "GatewayClient", "GeneratedMessages", "TestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The gateway over loopback: in-process servers, the real binary, real redis-server.
        .testTarget(
            name: "GatewayIntegrationTests",
            dependencies: [
                "HiveOpsGateway", "GatewayClient", "GeneratedMessages", "RedisClient", "TestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: ["RedisClient", "TestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        // The load generator's frame scan (it must read any server's JSON).
        .testTarget(name: "BenchTests", dependencies: ["Bench"], swiftSettings: swiftSettings),
        .testTarget(
            name: "GeneratedMessagesTests",
            dependencies: ["GeneratedMessages"],
            swiftSettings: swiftSettings
        ),

    ]
)
