import Benchmark
import Crypto
import Foundation
import JWTKit
import VouchKit

/// Where a credential verification spends its time beyond the Ed25519 verify: each step of
/// `CredentialVerifier.verify` alone, and VouchKit's jwt-kit signature check (`JWS.verify`, which
/// makes a `JWTKeyCollection` per call) split into jwt-kit's parts and set against a direct
/// `PublicKey.isValidSignature` over the same signing input.
func registerCredentialBreakdown() {
    let many = BenchmarkSettings.configuration(operationsPerIteration: .kilo)
    let one = BenchmarkSettings.configuration()

    Benchmark("vc+jwt parts: trim whitespace", configuration: many) {
        (benchmark: Benchmark, fixture: CredentialFixture) in
        for _ in benchmark.scaledIterations {
            blackHole(fixture.credential.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    } setup: {
        try await CredentialFixture.make()
    }

    Benchmark("vc+jwt parts: CompactJWS(parsing:)", configuration: many) {
        (benchmark: Benchmark, fixture: CredentialFixture) throws in
        for _ in benchmark.scaledIterations {
            blackHole(try CompactJWS(parsing: fixture.credential))
        }
    } setup: {
        try await CredentialFixture.make()
    }

    Benchmark("vc+jwt parts: Credential(payload:)", configuration: many) {
        (benchmark: Benchmark, fixture: CredentialFixture) throws in
        for _ in benchmark.scaledIterations {
            blackHole(try Credential(payload: fixture.credentialJWS.payload))
        }
    } setup: {
        try await CredentialFixture.make()
    }

    // What the key cache saves: reading the kid as a DID URL and decoding the did:key.
    Benchmark("vc+jwt parts: did:key resolve", configuration: many) {
        (benchmark: Benchmark, fixture: CredentialFixture) throws in
        let kid = fixture.credentialJWS.header.kid ?? ""
        for _ in benchmark.scaledIterations {
            blackHole(try DIDURL(kid).did.didKeyPublicKey())
        }
    } setup: {
        try await CredentialFixture.make()
    }

    Benchmark("vc+jwt parts: JWS.verify via jwt-kit", configuration: one) {
        (benchmark: Benchmark, fixture: CredentialFixture) async in
        for _ in benchmark.scaledIterations {
            let valid = await JWS.verify(fixture.credentialJWS, key: fixture.issuerKey)
            require(valid, "JWS.verify rejected the credential")
        }
    } setup: {
        try await CredentialFixture.make()
    }

    // What a replacement for JWS.verify would do: VouchKit's own key over the parsed token's
    // signing input, which `signingInput` copies out of the token on every call.
    Benchmark("vc+jwt parts: PublicKey.isValidSignature direct", configuration: one) {
        (benchmark: Benchmark, fixture: CredentialFixture) in
        for _ in benchmark.scaledIterations {
            let jws = fixture.credentialJWS
            require(fixture.issuerKey.isValidSignature(jws.signature, for: jws.signingInput), "the signature does not verify")
        }
    } setup: {
        try await CredentialFixture.make()
    }

    // The first part of JWS.verify: a new key collection actor with the key added.
    Benchmark("vc+jwt parts: jwt-kit JWTKeyCollection + add(eddsa:)", configuration: many) {
        (benchmark: Benchmark, fixture: CredentialFixture) async in
        for _ in benchmark.scaledIterations {
            let keys = JWTKeyCollection()
            await keys.add(eddsa: EdDSA.PublicKey(backing: fixture.issuerCryptoKey))
            blackHole(keys)
        }
    } setup: {
        try await CredentialFixture.make()
    }

    // The second part: jwt-kit's verify on a collection made once; it splits and decodes the
    // token again, decodes the header and payload JSON, then checks the signature.
    Benchmark("vc+jwt parts: jwt-kit verify, reused collection", configuration: one) {
        (benchmark: Benchmark, state: (fixture: CredentialFixture, keys: JWTKeyCollection)) async throws in
        for _ in benchmark.scaledIterations {
            blackHole(try await state.keys.verify(state.fixture.credential, as: SignatureOnlyPayload.self))
        }
    } setup: {
        let fixture = try await CredentialFixture.make()
        let keys = JWTKeyCollection()
        await keys.add(eddsa: EdDSA.PublicKey(backing: fixture.issuerCryptoKey))
        return (fixture, keys)
    }

    // jwt-kit's parsing and decoding alone, no signature: the share of the previous one that is not Ed25519.
    Benchmark("vc+jwt parts: jwt-kit parse + decode, no signature", configuration: many) {
        (benchmark: Benchmark, state: (fixture: CredentialFixture, keys: JWTKeyCollection)) async throws in
        for _ in benchmark.scaledIterations {
            blackHole(try await state.keys.unverified(state.fixture.credential, as: SignatureOnlyPayload.self))
        }
    } setup: {
        let fixture = try await CredentialFixture.make()
        let keys = JWTKeyCollection()
        await keys.add(eddsa: EdDSA.PublicKey(backing: fixture.issuerCryptoKey))
        return (fixture, keys)
    }
}

/// The same split for a telemetry envelope, whose signing input is shorter than a credential's.
func registerTelemetryBreakdown() {
    let many = BenchmarkSettings.configuration(operationsPerIteration: .kilo)
    let one = BenchmarkSettings.configuration()

    Benchmark("telemetry parts: Ed25519 raw verify of the envelope", configuration: one) {
        (benchmark: Benchmark, sample: TelemetrySample) in
        for _ in benchmark.scaledIterations {
            require(sample.cryptoKey.isValidSignature(sample.jws.signature, for: sample.signingInput), "the signature does not verify")
        }
    } setup: {
        try await TelemetrySample()
    }

    Benchmark("telemetry parts: CompactJWS(parsing:)", configuration: many) {
        (benchmark: Benchmark, sample: TelemetrySample) throws in
        for _ in benchmark.scaledIterations {
            blackHole(try CompactJWS(parsing: sample.token))
        }
    } setup: {
        try await TelemetrySample()
    }

    Benchmark("telemetry parts: JWS.verify via jwt-kit", configuration: one) {
        (benchmark: Benchmark, sample: TelemetrySample) async in
        for _ in benchmark.scaledIterations {
            let valid = await JWS.verify(sample.jws, key: sample.key)
            require(valid, "JWS.verify rejected the envelope")
        }
    } setup: {
        try await TelemetrySample()
    }

    Benchmark("telemetry parts: PublicKey.isValidSignature direct", configuration: one) {
        (benchmark: Benchmark, sample: TelemetrySample) in
        for _ in benchmark.scaledIterations {
            require(sample.key.isValidSignature(sample.jws.signature, for: sample.jws.signingInput), "the signature does not verify")
        }
    } setup: {
        try await TelemetrySample()
    }
}
