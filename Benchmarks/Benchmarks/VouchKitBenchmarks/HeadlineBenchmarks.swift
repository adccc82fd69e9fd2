import Benchmark
import Crypto
import Foundation
import VouchKit

/// The figures the issue asks for: the raw Ed25519 baseline, full credential, presentation and
/// telemetry verification, an inclusion proof at tree size 2^24, and a status-list check.
func registerHeadlineBenchmarks() {
    // The baseline: swift-crypto's Ed25519 verify over the very bytes and signature of the
    // credential that "vc+jwt full verification" checks.
    Benchmark("Ed25519 raw verify (baseline)", configuration: BenchmarkSettings.configuration()) {
        (benchmark: Benchmark, fixture: CredentialFixture) in
        for _ in benchmark.scaledIterations {
            let valid = fixture.issuerCryptoKey.isValidSignature(fixture.signature, for: fixture.signingInput)
            require(valid, "the baseline signature does not verify")
        }
    } setup: {
        try await CredentialFixture.make()
    }

    // Parse, data model, media type, did:key (from the verifier's key cache after the first
    // warm-up), signature, validity, trusted issuer, and both status entries.
    Benchmark("vc+jwt full verification", configuration: BenchmarkSettings.configuration()) {
        (benchmark: Benchmark, state: (fixture: CredentialFixture, verifier: CredentialVerifier)) async in
        for _ in benchmark.scaledIterations {
            let result = await state.verifier.verify(state.fixture.credential)
            require(result.isValid, "the credential was rejected: \(result.failures)")
        }
    } setup: {
        let fixture = try await CredentialFixture.make()
        return (fixture, fixture.credentialVerifier())
    }

    // The same with a new verifier for every credential, so the did:key is decoded every time.
    Benchmark("vc+jwt full verification, cold key cache", configuration: BenchmarkSettings.configuration()) {
        (benchmark: Benchmark, fixture: CredentialFixture) async in
        for _ in benchmark.scaledIterations {
            let result = await fixture.credentialVerifier().verify(fixture.credential)
            require(result.isValid, "the credential was rejected: \(result.failures)")
        }
    } setup: {
        try await CredentialFixture.make()
    }

    // The holder's signature, freshness, nonce, audience, holder binding, and the one enveloped
    // credential in full: two Ed25519 verifications, so 0.5 is the ceiling of its ratio.
    Benchmark("vp+jwt verification (1 credential)", configuration: BenchmarkSettings.configuration()) {
        (benchmark: Benchmark, state: (fixture: CredentialFixture, verifier: PresentationVerifier)) async in
        for _ in benchmark.scaledIterations {
            let result = await state.verifier.verify(state.fixture.presentation)
            require(result.isValid, "the presentation was rejected: \(result.failures)")
        }
    } setup: {
        let fixture = try await CredentialFixture.make()
        return (fixture, fixture.presentationVerifier())
    }

    // Each iteration verifies a new envelope, so every one is accepted by the replay guard.
    Benchmark("telemetry envelope verification", configuration: BenchmarkSettings.configuration()) {
        (benchmark: Benchmark, feed: TelemetryFeed) async in
        for _ in benchmark.scaledIterations {
            let result = await feed.verifier.verify(feed.take())
            if case .failure(let failure) = result { fatalError("the envelope was rejected: \(failure)") }
        }
    } setup: {
        try await TelemetryFeed(
            devices: 100, messages: BenchmarkSettings.warmupIterations + BenchmarkSettings.maxIterations + 100)
    }

    Benchmark("inclusion proof 2^24", configuration: BenchmarkSettings.configuration(operationsPerIteration: .kilo)) {
        (benchmark: Benchmark, proofs: InclusionProofSet) throws in
        let mask = proofs.entries.count - 1
        for iteration in benchmark.scaledIterations {
            let entry = proofs.entries[iteration & mask]
            let verdict = try entry.proof.verify(leafHash: entry.leafHash, rootHash: entry.rootHash)
            require(verdict == .valid, "the inclusion proof does not verify: \(verdict)")
        }
    } setup: {
        try InclusionProofSet()
    }

    // `isSet` on random indices of a list of 2^20 entries (128 KiB of bits), 1% of them set.
    Benchmark("status-list check", configuration: BenchmarkSettings.configuration(operationsPerIteration: .mega)) {
        (benchmark: Benchmark, state: (list: BitstringStatusList, indices: [Int])) throws in
        let mask = state.indices.count - 1
        var set = 0
        for iteration in benchmark.scaledIterations where try state.list.isSet(state.indices[iteration & mask]) {
            set &+= 1
        }
        blackHole(set)
    } setup: {
        var list = try BitstringStatusList(size: 1 << 20)
        for _ in 0..<(list.size / 100) { try list.set(Int.random(in: 0..<list.size)) }
        return (list, (0..<4_096).map { _ in Int.random(in: 0..<list.size) })
    }
}
