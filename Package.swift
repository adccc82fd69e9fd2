// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "vouch",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "VouchKit", targets: ["VouchKit"]),
        .library(name: "VouchCore", targets: ["VouchCore"]),
        .library(name: "VouchAPI", targets: ["VouchAPI"]),
        .library(name: "VouchStore", targets: ["VouchStore"]),
        .library(name: "VouchServer", targets: ["VouchServer"]),
        .library(name: "VouchGateway", targets: ["VouchGateway"]),
        .executable(name: "vouch", targets: ["VouchCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/vapor/jwt-kit", exact: "5.8.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Exact: the mTLS listener reads two of its private fields (Sources/VouchServer/HTTP/MTLSVerify.swift).
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/sql-kit", exact: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit", exact: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit", exact: "2.17.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/vapor/async-kit", from: "1.22.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        .target(
            name: "VouchKit",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VouchCore",
            dependencies: [
                "VouchKit",
                .product(name: "Yams", package: "Yams"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VouchAPI",
            dependencies: ["VouchKit", "VouchCore", .product(name: "X509", package: "swift-certificates")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VouchStore",
            dependencies: [
                "VouchCore",
                "VouchKit",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // SQLiteDirect also calls the C library (VaporCSQLite) this package builds; it is
                // a target of sqlite-nio, not a product, so it cannot be named here.
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "AsyncKit", package: "async-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VouchServer",
            dependencies: [
                "VouchAPI",
                "VouchStore",
                "VouchCore",
                "VouchKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                // MTLSVerify also calls BoringSSL (CNIOBoringSSL), a target of swift-nio-ssl that
                // is not a product.
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            // The console's templates and static files are read at start, not compiled in.
            resources: [.copy("openapi.yaml"), .copy("Console/Templates"), .copy("Console/Assets")],
            swiftSettings: swiftSettings
        ),
        // Enforcement inside a broker (Integrations/Mosquitto): decisions in process, kept current
        // from the server's /v1/gateway routes.
        .target(
            name: "VouchGateway",
            dependencies: [
                "VouchAPI",
                "VouchCore",
                "VouchKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VouchTesting",
            dependencies: [
                "VouchKit",
                "VouchCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VouchSimulation",
            dependencies: [
                "VouchAPI",
                "VouchCore",
                "VouchKit",
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "VouchCLI",
            dependencies: [
                "VouchAPI",
                "VouchKit",
                "VouchCore",
                "VouchServer",
                "VouchSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        // libFuzzer targets for every parser of outside data (scripts/fuzz.sh), and the corpus
        // replayer they are when built without -DFUZZING.
        .executableTarget(
            name: "VouchFuzz",
            dependencies: [
                "VouchKit",
                "VouchCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VouchKitTests",
            dependencies: ["VouchKit", "VouchCore", "VouchTesting", .product(name: "JWTKit", package: "jwt-kit")],
            resources: [.copy("Vectors")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VouchCoreTests",
            dependencies: ["VouchCore", "VouchKit", "VouchTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VouchAPITests",
            dependencies: ["VouchAPI", "VouchKit"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VouchStoreTests",
            dependencies: [
                "VouchStore", "VouchCore", "VouchKit", "VouchTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VouchServerTests",
            dependencies: [
                "VouchAPI",
                "VouchServer",
                "VouchStore",
                "VouchCore",
                "VouchKit",
                "VouchTesting",
                "VouchSimulation",
                "VouchGateway",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            // The Go program the interop tests build and run; not a resource of the test bundle.
            exclude: ["GoInterop/tlogcheck", "Vectors"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VouchFuzzTests",
            dependencies: [
                "VouchFuzz",
                "VouchKit",
                "VouchCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VouchCLITests",
            dependencies: ["VouchCLI", "VouchKit", "VouchTesting"],
            // The browser steps the console test runs with Selenium.
            exclude: ["Fixtures", "Console/console_browser.py"],
            swiftSettings: swiftSettings
        ),
    ]
)
