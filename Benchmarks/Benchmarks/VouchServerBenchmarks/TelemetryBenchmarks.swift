import Benchmark
import Crypto
import Foundation
import Synchronization
import VouchAPI
import VouchKit

/// Telemetry ingest (`telemetry-ratios` in `authorization-ratios.sh` prints them):
///
/// - baseline: raw Ed25519 verifies of envelope-sized messages on every core at once, the work
///   ingest cannot avoid;
/// - `POST /v1/telemetry` in batches of 100 pre-signed envelopes from 16 devices, each on its own
///   keep-alive connection with 2 batches in flight; every envelope must be accepted.
///
/// Each iteration is 20,000 envelopes (verifies, for the baseline). Envelopes are signed in the
/// setup, with sequence numbers that rise across iterations, since the server refuses replays.
func telemetryBenchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], tags: ["envelopes": String(TelemetryFixture.perIteration)], warmupIterations: 1,
        scalingFactor: .one, maxDuration: .seconds(60), maxIterations: TelemetryFixture.iterations - 1
    )

    Benchmark("telemetry baseline: raw Ed25519 verify on every core", configuration: configuration) { (_: Benchmark, samples: VerifySamples) in
        let cores = ProcessInfo.processInfo.activeProcessorCount
        await withTaskGroup(of: Void.self) { group in
            for core in 0..<cores {
                group.addTask {
                    for index in stride(from: core, to: TelemetryFixture.perIteration, by: cores) { samples.verify(index) }
                }
            }
        }
    } setup: {
        try await VerifySamples()
    }

    Benchmark("telemetry over HTTP: POST /v1/telemetry, batches of 100", configuration: configuration) { (_: Benchmark, fixture: TelemetryFixture) in
        let iteration = fixture.nextIteration()
        try await fixture.load.run(fixture.batches[iteration], count: fixture.batches[iteration].count, window: 2)
    } setup: {
        try await TelemetryFixture.start()
    } teardown: {
        await stopServers()
    }
}

/// Envelope-sized messages signed by several keys, verified with swift-crypto directly.
struct VerifySamples: Sendable {
    let keys: [Curve25519.Signing.PublicKey]
    let messages: [[UInt8]]
    let signatures: [Data]

    init() async throws {
        var keys: [Curve25519.Signing.PublicKey] = []
        var messages: [[UInt8]] = []
        var signatures: [Data] = []
        for index in 0..<256 {
            let key = Curve25519.Signing.PrivateKey()
            let message = Array((String(repeating: "x", count: 160) + "\(index)").utf8)
            keys.append(key.publicKey)
            messages.append(message)
            signatures.append(try key.signature(for: message))
        }
        self.keys = keys
        self.messages = messages
        self.signatures = signatures
    }

    func verify(_ index: Int) {
        let slot = index & 255
        require(keys[slot].isValidSignature(signatures[slot], for: messages[slot]), "a baseline signature does not verify")
    }
}
