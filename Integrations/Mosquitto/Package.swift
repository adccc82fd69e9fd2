// swift-tools-version:6.2
import PackageDescription

// The Mosquitto plugin (libvouch-mosquitto.so): Vouch's decisions inside a stock Mosquitto 2.0
// broker. Its own package, so that the main one builds without Mosquitto's headers (Debian's
// mosquitto-dev and libmosquitto-dev); the decisions themselves are VouchGateway's.
let package = Package(
    name: "vouch-mosquitto",
    products: [
        .library(name: "vouch-mosquitto", type: .dynamic, targets: ["VouchMosquitto"]),
    ],
    dependencies: [
        .package(name: "vouch", path: "../.."),
    ],
    targets: [
        .target(name: "CMosquitto"),
        .target(
            name: "VouchMosquitto",
            dependencies: ["CMosquitto", .product(name: "VouchGateway", package: "vouch")],
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ]
        ),
    ]
)
