import Foundation
import Testing
import VouchTesting
@testable import VouchKit

/// RFC 9864 names Ed25519 by itself (`Ed25519`) beside the polymorphic `EdDSA` of RFC 8037:
/// VouchKit accepts both for Ed25519 keys, and writes `Ed25519` when asked.
@Suite("JOSE: the fully-specified Ed25519 algorithm")
struct FullySpecifiedAlgorithmTests {
    @Test func ed25519IsWrittenWhenAskedAndVerifiesLikeEdDSA() async throws {
        let key = SigningKey.generate(.ed25519)
        let payload: JSONValue = ["hello": "world"]
        let token = try await JWS.sign(payload, type: "example+jwt", kid: "did:example:1#k", key: key, algorithm: .ed25519)
        let jws = try CompactJWS(parsing: token)
        #expect(jws.header.alg == "Ed25519")
        #expect(JWS.verify(jws, key: key.publicKey))
        #expect(!JWS.verify(jws, key: SigningKey.generate(.ed25519).publicKey))
        // The default stays EdDSA, which every JOSE library reads.
        #expect(try CompactJWS(parsing: try await JWS.sign(payload, type: "example+jwt", kid: "k", key: key)).header.alg == "EdDSA")
        // Neither name verifies with a P-256 key, and a key signs only under its own algorithm's names.
        #expect(!JWS.verify(jws, key: SigningKey.generate(.p256).publicKey))
        await #expect(throws: VouchKitError.self) { try await JWS.sign(payload, type: "x", kid: "k", key: key, algorithm: .es256) }
        await #expect(throws: VouchKitError.self) { try await JWS.sign(payload, type: "x", kid: "k", key: SigningKey.generate(.p256), algorithm: .ed25519) }
    }

    @Test func aCredentialSignedAsEd25519Verifies() async throws {
        let authority = TestAuthority(.ed25519)
        let token = try await authority.identityCredential(for: DeviceAgent().did)
        let jws = try CompactJWS(parsing: token)
        let resigned = try await JWS.sign(
            try JSONValue(parsing: jws.payload), type: "vc+jwt", contentType: "vc", kid: try #require(jws.header.kid), key: authority.key,
            algorithm: .ed25519)
        #expect(try CompactJWS(parsing: resigned).header.alg == "Ed25519")
        let verifier = CredentialVerifier.standard(trustedIssuers: [authority.did], statusLists: try authority.statusLists())
        let result = await verifier.verify(resigned)
        #expect(result.isValid, "\(result.failures)")
        // An unknown name is refused with a reason that names what is accepted.
        let header = Base64URL.encode(Array(#"{"alg":"Ed448","typ":"vc+jwt","kid":"\#(jws.header.kid ?? "")"}"#.utf8))
        let parts = resigned.split(separator: ".")
        let unknown = await verifier.verify(header + "." + parts[1] + "." + parts[2])
        #expect(unknown.failures.contains { $0.reason.contains("use EdDSA (or Ed25519) or ES256") }, "\(unknown.failures)")
    }
}
