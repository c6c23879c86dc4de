// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// The eight services of the suite: each is a thin executable whose composition root,
/// `buildApplication(config:)`, lives in the module so tests can reach it.
let services = [
    "Gateway", "FlagService", "RestrictionConsumer", "AnalyticsService",
    "StreamFilter", "ProfileService", "PostService", "FeedService",
]

/// Services whose model, store and routes live in a library of their own, for the tests
/// and benchmarks.
let serviceLibraries = ["FlagService": "FlagCore", "RestrictionConsumer": "RestrictionCore", "Gateway": "GatewayCore"]

let package = Package(
    name: "suite",
    platforms: [.macOS(.v15)],
    products: [.library(name: "Shared", targets: ["Shared"])]
        + services.map { .executable(name: $0, targets: [$0]) },
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(
            name: "CLibpq",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "Shared",
            dependencies: [
                "CHiredis",
                "CLibpq",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        // One-shot SHA-256 on the CPU's SHA extensions, for flag bucketing.
        .target(name: "CSHA256"),
        // FlagService's model, evaluation, snapshot store and routes, a library so the unit
        // tests and the benchmark reach them.
        .target(
            name: "FlagCore",
            dependencies: [
                "Shared",
                "CSHA256",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // RestrictionConsumer's rules, event log, applier, consumer and routes.
        .target(
            name: "RestrictionCore",
            dependencies: [
                "Shared",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The gateway's route table, proxy, protection and dashboard.
        .target(
            name: "GatewayCore",
            dependencies: [
                "Shared",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            swiftSettings: swiftSettings
        ),
        // Helpers for the tests: private Redis/PostgreSQL servers, a manual clock, processes.
        .target(
            name: "TestSupport",
            dependencies: [
                "Shared",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SharedTests",
            dependencies: [
                "Shared",
                "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlagTests",
            dependencies: [
                "FlagCore",
                "CSHA256",
                .product(name: "Crypto", package: "swift-crypto"),
                "Shared",
                "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: ["GatewayCore", "Shared", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RestrictionTests",
            dependencies: ["RestrictionCore", "Shared", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "RestrictionCore",
                "Shared",
                "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            swiftSettings: swiftSettings
        ),
        // Benchmarks (bench/): release executables compared against a baseline in the same run.
        .executableTarget(
            name: "RedisBench",
            dependencies: ["Shared", .product(name: "Logging", package: "swift-log")],
            path: "bench/redis",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FlagBench",
            dependencies: [
                "FlagCore",
                "Shared",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "bench/flags",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "RestrictionBench",
            dependencies: [
                "RestrictionCore",
                "Shared",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "bench/restrictions",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "GatewayBench",
            dependencies: [
                "GatewayCore",
                "Shared",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "bench/gateway",
            swiftSettings: swiftSettings
        ),
    ] + services.map {
        .executableTarget(
            name: $0,
            dependencies: ["Shared", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
                + (serviceLibraries[$0].map { [.target(name: $0)] } ?? []),
            swiftSettings: swiftSettings
        )
    }
)
