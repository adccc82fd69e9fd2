import Foundation
import Testing
import VouchTesting
@testable import VouchKit

@Suite("Presentations")
struct PresentationTests {
    let audience = "did:web:gateway.vouch.test"

    func verifier(_ authority: TestAuthority, nonce: String, now: Date = Date()) throws -> PresentationVerifier {
        let credentials = CredentialVerifier.standard(trustedIssuers: [authority.did], statusLists: try authority.statusLists(), now: now)
        return .standard(nonce: nonce, audience: audience, credentialVerifier: credentials, now: now)
    }

    @Test("a device presents its credential and the verifier accepts it", arguments: SigningKey.KeyType.allCases)
    func roundTrip(type: SigningKey.KeyType) async throws {
        let authority = TestAuthority()
        let device = DeviceAgent(type)
        let credential = try await authority.identityCredential(for: device.did)
        let token = try await device.present([credential], nonce: "n-1", audience: audience)
        let jws = try CompactJWS(parsing: token)
        #expect(jws.header.typ == "vp+jwt")
        let result = try await verifier(authority, nonce: "n-1").verify(token)
        #expect(result.isValid, "\(result.failures)")
        if case .valid(let verified) = result {
            #expect(verified.presentation.holder == device.did.description)
            #expect(verified.credentials.first?.subjectIDs == [device.did.description])
        }
    }

    @Test("wrong nonce and wrong audience are refused")
    func nonceAndAudience() async throws {
        let authority = TestAuthority()
        let device = DeviceAgent()
        let credential = try await authority.identityCredential(for: device.did)
        let token = try await device.present([credential], nonce: "n-1", audience: "did:web:elsewhere")
        let result = try await verifier(authority, nonce: "n-2").verify(token)
        #expect(Set(result.failures.map(\.check)) == [.nonce, .audience])
    }

    @Test("a nonce from a NonceStore verifies once")
    func nonceUsedTwice() async throws {
        let authority = TestAuthority()
        let device = DeviceAgent()
        let store = NonceStore()
        let challenge = try store.issue(audience: audience)
        let credential = try await authority.identityCredential(for: device.did)
        let token = try await device.present([credential], nonce: challenge.nonce, audience: audience)
        let verifier = PresentationVerifier {
            SignaturePolicy()
            NoncePolicy(store: store)
            AudiencePolicy(expected: audience)
            HolderBindingPolicy()
        }
        #expect(await verifier.verify(token).isValid)
        let second = await verifier.verify(token)
        #expect(second.failures.map(\.check) == [.nonce])
    }

    @Test("a holder cannot present another device's credential")
    func holderBinding() async throws {
        let authority = TestAuthority()
        let owner = DeviceAgent()
        let thief = DeviceAgent()
        let credential = try await authority.identityCredential(for: owner.did)
        let token = try await thief.present([credential], nonce: "n", audience: audience)
        let result = try await verifier(authority, nonce: "n").verify(token)
        #expect(result.failures.map(\.check) == [.holderBinding])
    }

    @Test("an expired presentation, or one carrying a revoked or untrusted credential, is refused")
    func staleAndBadCredentials() async throws {
        let authority = TestAuthority()
        let device = DeviceAgent()
        let credential = try await authority.identityCredential(for: device.did)
        let old = try await device.present([credential], nonce: "n", audience: audience, at: Date().addingTimeInterval(-3600))
        #expect(try await verifier(authority, nonce: "n").verify(old).failures.map(\.check) == [.validity])
        let fresh = try await device.present([credential], nonce: "n", audience: audience)
        let revokedVerifier = PresentationVerifier.standard(
            nonce: "n", audience: audience,
            credentialVerifier: .standard(trustedIssuers: [authority.did], statusLists: try authority.statusLists(revoked: [7])))
        #expect(await revokedVerifier.verify(fresh).failures.map(\.check) == [.credential])
        let untrusting = PresentationVerifier.standard(nonce: "n", audience: audience, credentialVerifier: .standard(trustedIssuers: []))
        let failures = await untrusting.verify(fresh).failures
        #expect(failures.contains { $0.check == .credential && $0.reason.contains("not trusted") })
    }

    @Test("a presentation signed by a key that is not the holder's is refused")
    func forgedHolder() async throws {
        let authority = TestAuthority()
        let device = DeviceAgent()
        let credential = try await authority.identityCredential(for: device.did)
        let attacker = SigningKey.generate()
        let token = try await Presentation.create(
            credentials: [credential], holderKey: attacker, holder: device.did,
            keyID: device.did.didKeyVerificationMethod.description, nonce: "n", audience: audience)
        let result = try await verifier(authority, nonce: "n").verify(token)
        #expect(result.failures.map(\.check) == [.signature])
    }
}
