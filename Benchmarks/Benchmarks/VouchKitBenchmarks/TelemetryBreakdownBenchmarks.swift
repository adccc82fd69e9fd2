import Benchmark
import Crypto
import Foundation
import VouchKit

/// The telemetry claims as `TelemetryVerifier` decodes them (its own type is internal to VouchKit).
private struct TelemetryClaims: Decodable {
    let iss: String
    let seq: UInt64
    let iat: Double
    let topic: String
    let payload: String
}

/// The steps of `TelemetryVerifier.verify` alone, with a raw Ed25519 verify of the envelope's own
/// signing input, which is shorter than a credential's.
func registerTelemetryBreakdown() {
    let sample = { try await TelemetrySample() }

    pairedBenchmark("telemetry parts: Ed25519 raw verify of the envelope", setup: sample) {
        (benchmark: Benchmark, sample: TelemetrySample) in
        for _ in benchmark.scaledIterations {
            require(sample.cryptoKey.isValidSignature(sample.jws.signature, for: sample.signingInput), "the signature does not verify")
        }
    }

    pairedBenchmark("telemetry parts: CompactJWS(parsing:)", setup: sample) { (benchmark: Benchmark, sample: TelemetrySample) in
        for _ in benchmark.scaledIterations {
            blackHole(try CompactJWS(parsing: sample.token))
        }
    }

    pairedBenchmark("telemetry parts: claims JSON decode", setup: sample) { (benchmark: Benchmark, sample: TelemetrySample) in
        for _ in benchmark.scaledIterations {
            blackHole(try sample.jws.decodePayload(as: TelemetryClaims.self))
        }
    }

    pairedBenchmark("telemetry parts: JWS.verify", setup: sample) { (benchmark: Benchmark, sample: TelemetrySample) in
        for _ in benchmark.scaledIterations {
            let valid = JWS.verify(sample.jws, key: sample.key)
            require(valid, "JWS.verify rejected the envelope")
        }
    }

    pairedBenchmark("telemetry parts: PublicKey.isValidSignature direct", setup: sample) {
        (benchmark: Benchmark, sample: TelemetrySample) in
        for _ in benchmark.scaledIterations {
            require(sample.key.isValidSignature(sample.jws.signature, for: sample.jws.signingInput), "the signature does not verify")
        }
    }

    // Sequence numbers rise per device across 100 devices, so every call is an acceptance.
    pairedBenchmark("telemetry parts: ReplayGuard.accept", operationsPerIteration: .mega, setup: {
        let devices = (0..<100).map { _ in DID(key: SigningKey.generate(.ed25519).publicKey).description }
        return (replayGuard: ReplayGuard(capacity: 100_000, window: 300), devices: devices, counter: Counter())
    }) { (benchmark: Benchmark, state: (replayGuard: ReplayGuard, devices: [String], counter: Counter)) in
        let now = Date()
        for _ in benchmark.scaledIterations {
            let message = state.counter.next()
            let result = state.replayGuard.accept(
                device: state.devices[message % state.devices.count], sequence: UInt64(message / state.devices.count + 1),
                time: now, now: now)
            if case .failure(let failure) = result { fatalError("the replay guard refused: \(failure)") }
        }
    }
}
