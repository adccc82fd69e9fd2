// swift-tools-version:6.2
import Foundation
import PackageDescription

// Performance benchmarks for VouchKit, kept out of the main package so that its users never
// resolve ordo-one/benchmark. Run from this folder:
//
//     swift package --disable-sandbox benchmark
//     ./ratios.sh            # the same run, printed as ratios to raw Ed25519 verify

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// SwiftPM names a path dependency after its folder, so the VouchKit checkout's identity is
// whatever the clone is called (`main` here); work it out rather than hard-code it.
let vouch = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "VouchBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        // The malloc interposer gives the malloc counts; naming the trait leaves out the Linux
        // Swift 6.3 runtime interposer, which is not needed for anything measured here.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // Only to split jwt-kit's share of `JWS.verify`; the same version VouchKit pins.
        .package(url: "https://github.com/vapor/jwt-kit", exact: "5.8.0"),
        // The server benchmarks drive `vouch serve` over real sockets with `VouchClient` over
        // Hummingbird's HTTP/1.1 test client, the version VouchServer pins.
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        // The log benchmarks write their events straight into the server's SQLite file.
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        // The authorization benchmark's load client: raw HTTP/1.1 pipelining over NIO sockets.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "VouchKitBenchmarks",
            dependencies: [
                .product(name: "VouchKit", package: vouch),
                .product(name: "VouchCore", package: vouch),
                .product(name: "VouchAPI", package: vouch),
                .product(name: "VouchGateway", package: vouch),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            path: "Benchmarks/VouchKitBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "VouchServerBenchmarks",
            dependencies: [
                .product(name: "VouchServer", package: vouch),
                .product(name: "VouchAPI", package: vouch),
                .product(name: "VouchCore", package: vouch),
                .product(name: "VouchKit", package: vouch),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/VouchServerBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "VouchLogBenchmarks",
            dependencies: [
                .product(name: "VouchServer", package: vouch),
                .product(name: "VouchAPI", package: vouch),
                .product(name: "VouchCore", package: vouch),
                .product(name: "VouchKit", package: vouch),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ],
            path: "Benchmarks/VouchLogBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "VouchScaleBenchmarks",
            dependencies: [
                .product(name: "VouchServer", package: vouch),
                .product(name: "VouchAPI", package: vouch),
                .product(name: "VouchCore", package: vouch),
                .product(name: "VouchKit", package: vouch),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/VouchScaleBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Not a benchmark: the HTTP enrollment run once, with latencies and CPU time per enrollment,
        // for profiling (see Benchmarks/LoadProbe/main.swift).
        .executableTarget(
            name: "LoadProbe",
            dependencies: [
                .product(name: "VouchServer", package: vouch),
                .product(name: "VouchAPI", package: vouch),
                .product(name: "VouchKit", package: vouch),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Benchmarks/LoadProbe",
            swiftSettings: swiftSettings
        ),
    ]
)
