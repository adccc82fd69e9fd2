import Benchmark
import Foundation
import JWTKit
import VouchKit

/// Where a credential verification spends its time beyond the Ed25519 verify: each step of
/// `CredentialVerifier.verify` alone, and VouchKit's jwt-kit signature check (`JWS.verify`, which
/// makes a `JWTKeyCollection` per call) split into jwt-kit's parts and set against a direct
/// `PublicKey.isValidSignature` over the same signing input.
func registerCredentialBreakdown() {
    let fixture = { try await CredentialFixture.make() }

    pairedBenchmark("vc+jwt parts: Foundation trimmingCharacters (replaced)", setup: fixture) { (benchmark: Benchmark, fixture: CredentialFixture) in
        for _ in benchmark.scaledIterations {
            blackHole(fixture.credential.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    pairedBenchmark("vc+jwt parts: CompactJWS(parsing:)", setup: fixture) { (benchmark: Benchmark, fixture: CredentialFixture) in
        for _ in benchmark.scaledIterations {
            blackHole(try CompactJWS(parsing: fixture.credential))
        }
    }

    pairedBenchmark("vc+jwt parts: Credential(payload:)", setup: fixture) { (benchmark: Benchmark, fixture: CredentialFixture) in
        for _ in benchmark.scaledIterations {
            blackHole(try Credential(payload: fixture.credentialJWS.payload))
        }
    }

    // What the key cache saves: reading the kid as a DID URL and decoding the did:key.
    pairedBenchmark("vc+jwt parts: did:key resolve", setup: fixture) { (benchmark: Benchmark, fixture: CredentialFixture) in
        let kid = fixture.credentialJWS.header.kid ?? ""
        for _ in benchmark.scaledIterations {
            blackHole(try DIDURL(kid).did.didKeyPublicKey())
        }
    }

    pairedBenchmark("vc+jwt parts: JWS.verify", setup: fixture) { (benchmark: Benchmark, fixture: CredentialFixture) in
        for _ in benchmark.scaledIterations {
            let valid = JWS.verify(fixture.credentialJWS, key: fixture.issuerKey)
            require(valid, "JWS.verify rejected the credential")
        }
    }

    // What a replacement for JWS.verify would do: VouchKit's own key over the parsed token's
    // signing input, which `signingInput` copies out of the token on every call.
    pairedBenchmark("vc+jwt parts: PublicKey.isValidSignature direct", setup: fixture) {
        (benchmark: Benchmark, fixture: CredentialFixture) in
        let jws = fixture.credentialJWS
        for _ in benchmark.scaledIterations {
            require(fixture.issuerKey.isValidSignature(jws.signature, for: jws.signingInput), "the signature does not verify")
        }
    }

    // The first part of JWS.verify: a new key collection actor with the key added.
    pairedBenchmark("vc+jwt parts: jwt-kit JWTKeyCollection + add(eddsa:)", setup: fixture) {
        (benchmark: Benchmark, fixture: CredentialFixture) in
        for _ in benchmark.scaledIterations {
            let keys = JWTKeyCollection()
            await keys.add(eddsa: EdDSA.PublicKey(backing: fixture.issuerCryptoKey))
            blackHole(keys)
        }
    }

    let collection = {
        let fixture = try await CredentialFixture.make()
        let keys = JWTKeyCollection()
        await keys.add(eddsa: EdDSA.PublicKey(backing: fixture.issuerCryptoKey))
        return (fixture: fixture, keys: keys)
    }

    // The second part: jwt-kit's verify on a collection made once; it splits and decodes the
    // token again, decodes the header and payload JSON, and checks the signature.
    pairedBenchmark("vc+jwt parts: jwt-kit verify, reused collection", setup: collection) {
        (benchmark: Benchmark, state: (fixture: CredentialFixture, keys: JWTKeyCollection)) in
        for _ in benchmark.scaledIterations {
            blackHole(try await state.keys.verify(state.fixture.credential, as: SignatureOnlyPayload.self))
        }
    }

    // jwt-kit's parsing and decoding alone, without the signature.
    pairedBenchmark("vc+jwt parts: jwt-kit parse + decode, no signature", setup: collection) {
        (benchmark: Benchmark, state: (fixture: CredentialFixture, keys: JWTKeyCollection)) in
        for _ in benchmark.scaledIterations {
            blackHole(try await state.keys.unverified(state.fixture.credential, as: SignatureOnlyPayload.self))
        }
    }
}
