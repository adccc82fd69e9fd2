import Benchmark
import VouchKit

/// The figures the issue asks for: the raw Ed25519 baseline, full credential, presentation and
/// telemetry verification, an inclusion proof at tree size 2^24, and a status-list check.
func registerHeadlineBenchmarks() {
    // The baseline: swift-crypto's Ed25519 verify over the very bytes and signature of the
    // credential that "vc+jwt full verification" checks. Its paired ratio is 1 by construction
    // and shows how steady the pairing is.
    pairedBenchmark("Ed25519 raw verify (baseline)", setup: { RawVerify(try await CredentialFixture.make()) }) {
        (benchmark: Benchmark, raw: RawVerify) in
        for _ in benchmark.scaledIterations { raw.verify() }
    }

    // Parse, data model, media type, did:key (from the verifier's key cache after warm-up),
    // signature, validity, trusted issuer, and both status entries.
    pairedBenchmark("vc+jwt full verification", setup: {
        let fixture = try await CredentialFixture.make()
        return (fixture: fixture, verifier: fixture.credentialVerifier())
    }) { (benchmark: Benchmark, state: (fixture: CredentialFixture, verifier: CredentialVerifier)) in
        for _ in benchmark.scaledIterations {
            let result = await state.verifier.verify(state.fixture.credential)
            require(result.isValid, "the credential was rejected: \(result.failures)")
        }
    }

    // The same with a new verifier for every credential, so the did:key is decoded every time.
    pairedBenchmark("vc+jwt full verification, cold key cache", setup: { try await CredentialFixture.make() }) {
        (benchmark: Benchmark, fixture: CredentialFixture) in
        for _ in benchmark.scaledIterations {
            let result = await fixture.credentialVerifier().verify(fixture.credential)
            require(result.isValid, "the credential was rejected: \(result.failures)")
        }
    }

    // The holder's signature, freshness, nonce, audience, holder binding, and the one enveloped
    // credential in full: two Ed25519 verifications, so 0.5 is the ceiling of its ratio.
    pairedBenchmark("vp+jwt verification (1 credential)", setup: {
        let fixture = try await CredentialFixture.make()
        return (fixture: fixture, verifier: fixture.presentationVerifier())
    }) { (benchmark: Benchmark, state: (fixture: CredentialFixture, verifier: PresentationVerifier)) in
        for _ in benchmark.scaledIterations {
            let result = await state.verifier.verify(state.fixture.presentation)
            require(result.isValid, "the presentation was rejected: \(result.failures)")
        }
    }

    // Each operation verifies a new envelope, so every one is accepted by the replay guard.
    let telemetryIterations = 25
    pairedBenchmark("telemetry envelope verification", maxIterations: telemetryIterations, setup: {
        try await TelemetryFeed(devices: 100, messages: (BenchmarkSettings.warmupIterations + telemetryIterations) * 1_000)
    }) { (benchmark: Benchmark, feed: TelemetryFeed) in
        for _ in benchmark.scaledIterations {
            let result = await feed.verifier.verify(feed.take())
            if case .failure(let failure) = result { fatalError("the envelope was rejected: \(failure)") }
        }
    }

    pairedBenchmark("inclusion proof 2^24", setup: { try InclusionProofSet() }) {
        (benchmark: Benchmark, proofs: InclusionProofSet) in
        let mask = proofs.entries.count - 1
        for iteration in benchmark.scaledIterations {
            let entry = proofs.entries[iteration & mask]
            let verdict = try entry.proof.verify(leafHash: entry.leafHash, rootHash: entry.rootHash)
            require(verdict == .valid, "the inclusion proof does not verify: \(verdict)")
        }
    }

    // `isSet` at random indices of a list of 2^20 entries (128 KiB of bits), 1% of them set.
    pairedBenchmark("status-list check", operationsPerIteration: .mega, setup: {
        var list = try BitstringStatusList(size: 1 << 20)
        for _ in 0..<(list.size / 100) { try list.set(Int.random(in: 0..<list.size)) }
        return (list: list, indices: (0..<4_096).map { _ in Int.random(in: 0..<list.size) })
    }) { (benchmark: Benchmark, state: (list: BitstringStatusList, indices: [Int])) in
        let mask = state.indices.count - 1
        var set = 0
        for iteration in benchmark.scaledIterations where try state.list.isSet(state.indices[iteration & mask]) {
            set &+= 1
        }
        blackHole(set)
    }
}
