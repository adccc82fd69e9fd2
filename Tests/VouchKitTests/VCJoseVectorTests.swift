import Foundation
import Testing
@testable import VouchKit

/// The W3C vc-jose-cose test suite's JOSE inputs: the issuer is a URL whose keys (by thumbprint
/// `kid`) come from `vm-*.json`, so they enter the verifier through a trust bundle.
@Suite("vc-jose-cose vectors")
struct VCJoseVectorTests {
    static let issuer = "https://example.issuer/vc-jose-cose"

    static func bundle() async throws -> TrustBundle {
        var keys: [JWK] = []
        for name in ["vm-ed25519.json", "vm-p256.json", "vm-p384.json", "vm-p521.json"] {
            let method = try Vectors.json("vc-jose-cose/\(name)") as! [String: Any]
            keys.append(try JWK(json: try JSONSerialization.data(withJSONObject: method["publicKeyJwk"]!)))
        }
        let contents = TrustBundle.Contents(
            authority: "did:example:test", expiresAt: Date().addingTimeInterval(3600),
            trustedIssuers: [TrustedIssuer(id: issuer, keys: keys)])
        return try await TrustBundle(trusting: contents)
    }

    static func verifier() async throws -> CredentialVerifier {
        let now = RFC3339.parse("2024-06-01T00:00:00Z")!
        return CredentialVerifier(trust: try await bundle()) {
            MediaTypePolicy()
            SignaturePolicy()
            ValidityPolicy(now: now)
            TrustedIssuerPolicy()
            StatusPolicy()
        }
    }

    @Test("minimal (ES256), unknown-extensions (ES512) and issuer-match (EdDSA) verify",
          arguments: ["credential-jose-minimal.txt", "credential-jose-unknown-extensions.txt", "credential-issuer-match-signed.txt"])
    func valid(file: String) async throws {
        let token = try Vectors.text("vc-jose-cose/\(file)")
        let result = try await Self.verifier().verify(token)
        #expect(result.isValid, "\(result.failures)")
        if case .valid(let verified) = result {
            #expect(verified.credential.issuer == Self.issuer)
            #expect(verified.credential.subjectIDs == ["did:example:123"])
            #expect(verified.credential.json["credentialSubject"]?["degree"]?["type"] == "BachelorDegree")
        }
    }

    @Test("bad-signature is rejected for its signature")
    func badSignature() async throws {
        let result = try await Self.verifier().verify(try Vectors.text("vc-jose-cose/credential-jose-bad-signature.txt"))
        #expect(result.failures.map(\.check) == [.signature])
    }

    @Test("bad-media-type has a valid signature but is rejected for its typ and cty")
    func badMediaType() async throws {
        let result = try await Self.verifier().verify(try Vectors.text("vc-jose-cose/credential-jose-bad-media-type.txt"))
        #expect(!result.isValid)
        #expect(Set(result.failures.map(\.check)) == [.mediaType])
        #expect(result.failures.count == 2)
    }

    @Test("vc-vp-claims has a valid signature but is rejected for its vc and vp claims")
    func vcVpClaims() async throws {
        let result = try await Self.verifier().verify(try Vectors.text("vc-jose-cose/credential-jose-vc-vp-claims.txt"))
        #expect(result.failures.map(\.check) == [.format, .format])
        #expect(result.failures.contains { $0.reason.contains("\"vc\"") })
        #expect(result.failures.contains { $0.reason.contains("\"vp\"") })
    }

    @Test("the same credentials fail when the issuer is not in the bundle")
    func untrusted() async throws {
        let verifier = CredentialVerifier(trust: nil) {
            SignaturePolicy()
            TrustedIssuerPolicy()
        }
        let result = await verifier.verify(try Vectors.text("vc-jose-cose/credential-jose-minimal.txt"))
        #expect(Set(result.failures.map(\.check)) == [.signature, .trustedIssuer])
    }
}
