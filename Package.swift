// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

/// The eight services of the suite, each an executable of one `main.swift` over the library
/// of its bounded context, which holds the model, store, API, configuration and
/// `buildApplication` (SocialCore holds three services, one builder each).
let services: [(executable: String, library: String)] = [
    ("Gateway", "GatewayCore"),
    ("FlagService", "FlagCore"),
    ("RestrictionConsumer", "RestrictionCore"),
    ("AnalyticsService", "AnalyticsCore"),
    ("StreamFilter", "StreamCore"),
    ("ProfileService", "SocialCore"),
    ("PostService", "SocialCore"),
    ("FeedService", "SocialCore"),
]

let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let hummingbirdTesting = Target.Dependency.product(name: "HummingbirdTesting", package: "hummingbird")
let httpClient = Target.Dependency.product(name: "AsyncHTTPClient", package: "async-http-client")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")

/// A bounded context's library: the platform plus what the context needs of its own.
func serviceLibrary(_ name: String, _ dependencies: [Target.Dependency] = []) -> Target {
    .target(name: name, dependencies: ["Shared", hummingbird, lifecycle] + dependencies, swiftSettings: swiftSettings)
}

/// A library's tests: unit tests of its parts and in-process route tests of its
/// `buildApplication`, against the servers `scripts/test.sh` starts.
func serviceTests(_ name: String, _ library: String, _ dependencies: [Target.Dependency] = []) -> Target {
    .testTarget(
        name: name,
        dependencies: [.target(name: library), "Shared", "TestSupport", hummingbirdTesting] + dependencies,
        swiftSettings: swiftSettings
    )
}

var targets: [Target] = [
    .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
    .systemLibrary(name: "CLibpq", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
    // The platform every service is built on: clients, health, resilience, HTTP kit, JSON,
    // the runtime. No service's domain.
    .target(
        name: "Shared",
        dependencies: [
            "CHiredis",
            "CLibpq",
            hummingbird,
            httpClient,
            lifecycle,
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ],
        exclude: ["README.md"],
        swiftSettings: swiftSettings
    ),
    // One-shot SHA-256 on the CPU's SHA extensions, for flag bucketing.
    .target(name: "CSHA256"),
    serviceLibrary("FlagCore", ["CSHA256", .product(name: "Crypto", package: "swift-crypto")]),
    serviceLibrary(
        "RestrictionCore",
        [.product(name: "Crypto", package: "swift-crypto"), .product(name: "Prometheus", package: "swift-prometheus")]
    ),
    serviceLibrary(
        "GatewayCore",
        [
            httpClient,
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
        ]
    ),
    serviceLibrary("SocialCore", [httpClient]),
    serviceLibrary(
        "StreamCore",
        [
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]
    ),
    serviceLibrary("AnalyticsCore"),
    // Helpers for the tests: private Redis/PostgreSQL servers, a manual clock, processes.
    .target(
        name: "TestSupport",
        dependencies: [
            "Shared",
            hummingbird,
            httpClient,
            hummingbirdTesting,
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
        ],
        swiftSettings: swiftSettings
    ),
    .testTarget(name: "SharedTests", dependencies: ["Shared", "TestSupport", hummingbirdTesting], swiftSettings: swiftSettings),
    serviceTests("FlagTests", "FlagCore", ["CSHA256", .product(name: "Crypto", package: "swift-crypto")]),
    serviceTests("GatewayTests", "GatewayCore"),
    serviceTests("RestrictionTests", "RestrictionCore"),
    serviceTests("SocialTests", "SocialCore"),
    serviceTests("StreamTests", "StreamCore"),
    serviceTests("AnalyticsTests", "AnalyticsCore"),
    // The executables as operators run them, with real clients.
    .testTarget(
        name: "EndToEndTests",
        dependencies: [
            "RestrictionCore",
            "Shared",
            "TestSupport",
            httpClient,
            // The OFREP test's own model of bucketing hashes with it, not with the service's code.
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
        ],
        swiftSettings: swiftSettings
    ),
]
targets += services.map { service in
    .executableTarget(name: service.executable, dependencies: ["Shared", .target(name: service.library)], swiftSettings: swiftSettings)
}

// Benchmarks (bench/): release executables compared against a baseline in the same run,
// built only when asked for (the bench scripts set SUITE_BENCHMARKS=1), as Hummingbird gates
// its own, so the test command does not compile them.
if Context.environment["SUITE_BENCHMARKS"] != nil {
    targets += [
        .executableTarget(
            name: "RedisBench",
            dependencies: ["Shared", .product(name: "Logging", package: "swift-log")],
            path: "bench/redis",
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "FlagBench", dependencies: ["FlagCore", "Shared", httpClient], path: "bench/flags", swiftSettings: swiftSettings),
        .executableTarget(
            name: "RestrictionBench",
            dependencies: ["RestrictionCore", "Shared", httpClient, .product(name: "Logging", package: "swift-log")],
            path: "bench/restrictions",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "StreamBench",
            dependencies: [
                "StreamCore", "Shared", hummingbird, httpClient, .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            path: "bench/stream",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "GatewayBench",
            dependencies: ["GatewayCore", "Shared", hummingbird, httpClient],
            path: "bench/gateway",
            swiftSettings: swiftSettings
        ),
    ]
}

let package = Package(
    name: "suite",
    platforms: [.macOS(.v15)],
    products: [.library(name: "Shared", targets: ["Shared"])]
        + services.map { .executable(name: $0.executable, targets: [$0.executable]) },
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
    ],
    targets: targets
)
