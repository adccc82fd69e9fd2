import Foundation
import SwiftASN1
import Testing
import VouchCore
import VouchKit
import X509

@testable import VouchFuzz

/// The seeds that a target signs or checks before reading reach past those checks, so that the
/// fuzzer starts from inputs that exercise what comes after them. A seed that stops verifying
/// (a fixture key changed, a seed expired) fails here instead of quietly fuzzing nothing.
@Suite struct FuzzSeedTests {
    @Test func telemetryClaimsOpenOnceSigned() throws {
        let token = FuzzFixture.token(payload: try Self.seed("telemetry-envelope", "reading.json"), type: "vouch-telemetry+jwt")
        let envelope = try TelemetryEnvelope.open(token, device: FuzzFixture.deviceDID.description, key: FuzzFixture.devicePublicKey).get()
        #expect(envelope.sequence == 7)
    }

    @Test func challengeAnswerFailsOnlyAtTheNonce() async throws {
        let token = FuzzFixture.token(payload: try Self.seed("challenge-response", "answer.json"), type: "vouch-challenge+jwt")
        let verifier = ChallengeVerifier(store: NonceStore(clock: { FuzzFixture.now }), audience: "https://vouch.test")
        guard case .failure(let failure) = await verifier.verify(token, now: FuzzFixture.now) else {
            Issue.record("a nonce the store never issued was accepted")
            return
        }
        #expect(failure.check == .nonce)
    }

    @Test func dpopClaimsVerifyOnceSigned() throws {
        let proof = FuzzFixture.token(payload: try Self.seed("dpop-claims", "bound.json"), header: FuzzFixture.dpopHeader)
        let checked = try DPoPProof.verify(proof, method: "POST", accessToken: "access-token", now: FuzzFixture.now).get()
        #expect(checked.key == FuzzFixture.devicePublicKey)
    }

    @Test func statusListCredentialVerifiesOnceSigned() async throws {
        let token = FuzzFixture.token(payload: try Self.seed("status-list-credential", "revocation.json"), type: "vc+jwt")
        let list = try await StatusListCredential.verify(token, trustedIssuers: [FuzzFixture.deviceDID.description], now: FuzzFixture.now)
        #expect(try list.list.isSet(94_567))
    }

    @Test func trustBundleOpens() async throws {
        let contents = try JSONDecoder().decode(TrustBundle.Contents.self, from: try Self.seed("trust-bundle", "bundle.json"))
        let bundle = try await TrustBundle(trusting: contents, now: FuzzFixture.now)
        #expect(bundle.checkpoint != nil && bundle.zoneRules != nil && bundle.statusLists.count == 1 && bundle.caCertificates.count == 1)
    }

    @Test func logReceiptAndAuditVerify() async throws {
        let receipt = try JSONDecoder().decode(LogReceipt.self, from: try Self.seed("log-receipt", "receipt.json"))
        #expect(throws: Never.self) { try receipt.verify(verifiers: [FuzzFixture.logSigner.verifier]).get() }
        let source = try #require(FuzzLogSource(input: try Self.seed("log-audit", "three.bin")))
        let report = try await LogAuditor(verifiers: [FuzzFixture.logSigner.verifier]).audit(source, state: nil).get()
        #expect(report.entriesVerified == 3)
    }

    @Test func factoryCertificateChainsToTheManufacturerRoot() async throws {
        let factory = try Certificate(derEncoded: Array(try Self.seed("certificate", "factory.der")))
        var verifier = Verifier(rootCertificates: CertificateStore([FuzzFixture.manufacturerRoot])) { RFC5280Policy() }
        let result = await verifier.validate(leaf: factory, intermediates: CertificateStore())
        guard case .validCertificate = result else {
            Issue.record("the factory certificate does not validate: \(result)")
            return
        }
    }

    @Test func requestsAndPoliciesRead() throws {
        for name in ["ed25519.pem", "p256.pem", "extension-request.pem"] {
            let csr = try CertificateSigningRequest(pemEncoded: String(decoding: try Self.seed("csr", name), as: UTF8.self))
            #expect(csr.publicKey.isValidSignature(csr.signature, for: csr), "\(name)")
        }
        for name in ["plain.der", "nonce.der"] {
            #expect(throws: Never.self) { try OCSPRequestSummary(derEncoded: Array(try Self.seed("ocsp-request", name))) }
        }
        for name in ["readme.yaml", "fleet.yaml", "lab.json"] {
            #expect(throws: Never.self) { try PolicyDocument(parsing: String(decoding: try Self.seed("policy-document", name), as: UTF8.self)) }
        }
        let suite = try PolicyTestSuite(parsing: String(decoding: try Self.seed("policy-test-suite", "readme-cases.yaml"), as: UTF8.self))
        let results = suite.run(FuzzTargets.examplePolicy)
        #expect(results.allSatisfy { $0.passed })
    }

    /// The seed `Fuzz/corpus/<target>/<name>`.
    static func seed(_ target: String, _ name: String) throws -> Data {
        let url = FuzzCorpusTests.fuzz.appendingPathComponent("corpus").appendingPathComponent(target).appendingPathComponent(name)
        return try Data(contentsOf: url)
    }
}
