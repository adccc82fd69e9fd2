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
    ],
    targets: [
        .executableTarget(
            name: "VouchKitBenchmarks",
            dependencies: [
                .product(name: "VouchKit", package: vouch),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            path: "Benchmarks/VouchKitBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
