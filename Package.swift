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
    ],
    targets: [
        .target(
            name: "VouchKit",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VouchCore",
            dependencies: ["VouchKit"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VouchTesting",
            dependencies: ["VouchKit", "VouchCore"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "VouchCLI",
            dependencies: [
                "VouchKit",
                "VouchCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VouchKitTests",
            dependencies: ["VouchKit", "VouchCore", "VouchTesting"],
            resources: [.copy("Vectors")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VouchCoreTests",
            dependencies: ["VouchCore", "VouchKit", "VouchTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VouchCLITests",
            dependencies: ["VouchCLI", "VouchKit"],
            swiftSettings: swiftSettings
        ),
    ]
)
