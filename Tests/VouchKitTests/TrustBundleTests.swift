import Foundation
import Testing
import VouchTesting
@testable import VouchKit

@Suite("Trust bundles")
struct TrustBundleTests {
    struct Fixture {
        let authorityKey = SigningKey.generate()
        let issuers = TestAuthority()
        let webIssuerKey = SigningKey.generate(.p256)
        let webIssuerDID = try! DID("did:web:issuer.vouch.test")
        let logSigner = try! NoteSigner.generate(name: "log.vouch.test")

        var authority: DID { DID(key: authorityKey.publicKey) }

        func contents(revoked: [Int] = [], expiresIn: TimeInterval = 3600) async throws -> TrustBundle.Contents {
            var list = try BitstringStatusList()
            for index in revoked { try list.set(index) }
            let listCredential = try await StatusListCredential.issue(list, purpose: .revocation, url: issuers.revocationListURL, issuer: issuers.issuer, validFor: 3600)
            let checkpoint = try Checkpoint(origin: "log.vouch.test", size: 1, rootHash: MerkleHash.leafHash(Data("entry".utf8)))
            let webKey = webIssuerKey.publicKey
            var webJWK = webKey.jwk
            webJWK.kid = "\(webIssuerDID)#\(webKey.thumbprint)"
            return TrustBundle.Contents(
                authority: authority.description, expiresAt: Date().addingTimeInterval(expiresIn),
                trustedIssuers: [TrustedIssuer(id: issuers.did), TrustedIssuer(id: webIssuerDID.description, keys: [webJWK])],
                statusListCredentials: [listCredential], statusListURLs: [issuers.revocationListURL],
                checkpoint: try logSigner.sign(checkpoint.text).serialized, logKey: logSigner.verifierKey)
        }
    }

    @Test("a signed bundle opens offline and verifies credentials from a did:key and a did:web issuer, with status")
    func offlineVerification() async throws {
        let fixture = Fixture()
        let signed = try await TrustBundle.sign(try await fixture.contents(revoked: [9]), key: fixture.authorityKey)
        let bundle = try await TrustBundle(verifying: signed, authority: fixture.authority)
        #expect(bundle.statusLists.count == 1)
        #expect(bundle.checkpoint?.size == 1)
        let verifier = CredentialVerifier(trust: bundle) {
            MediaTypePolicy()
            SignaturePolicy()
            ValidityPolicy()
            TrustedIssuerPolicy()
            StatusPolicy()
        }
        let device = DeviceAgent()
        let good = try await fixture.issuers.issuer.issue(
            types: ["DeviceIdentityCredential"], subject: device.did.description,
            status: [CredentialStatusEntry(listURL: fixture.issuers.revocationListURL, index: 8)])
        #expect(await verifier.verify(good).isValid)
        let revoked = try await fixture.issuers.issuer.issue(
            types: ["DeviceIdentityCredential"], subject: device.did.description,
            status: [CredentialStatusEntry(listURL: fixture.issuers.revocationListURL, index: 9)])
        #expect(await verifier.verify(revoked).failures.map(\.check) == [.status])
        let webIssuer = CredentialIssuer(
            key: fixture.webIssuerKey, did: fixture.webIssuerDID,
            keyID: "\(fixture.webIssuerDID)#\(fixture.webIssuerKey.publicKey.thumbprint)")
        let fromWeb = try await webIssuer.issue(types: ["ZoneCredential"], subject: device.did.description)
        let webResult = await verifier.verify(fromWeb)
        #expect(webResult.isValid, "\(webResult.failures)")
        let stranger = CredentialIssuer(key: SigningKey.generate())
        let untrusted = try await stranger.issue(types: ["ZoneCredential"], subject: device.did.description)
        #expect(await verifier.verify(untrusted).failures.map(\.check) == [.trustedIssuer])
    }

    @Test("a tampered, expired, or foreign bundle does not open")
    func refusals() async throws {
        let fixture = Fixture()
        let signed = try await TrustBundle.sign(try await fixture.contents(), key: fixture.authorityKey)
        let parts = signed.split(separator: ".").map(String.init)
        var payload = try JSONValue(parsing: Base64URL.decode(parts[1])!)
        if case .object(var members) = payload {
            members["trustedIssuers"] = [["id": "did:key:z6MkAttacker", "keys": []]]
            payload = .object(members)
        }
        let tampered = [parts[0], Base64URL.encode(Array(payload.jsonData())), parts[2]].joined(separator: ".")
        await #expect(throws: VouchKitError.self) { try await TrustBundle(verifying: tampered, authority: fixture.authority) }
        let expired = try await TrustBundle.sign(try await fixture.contents(expiresIn: -1), key: fixture.authorityKey)
        await #expect(throws: VouchKitError.self) { try await TrustBundle(verifying: expired, authority: fixture.authority) }
        await #expect(throws: VouchKitError.self) { try await TrustBundle(verifying: signed, authority: DID(key: SigningKey.generate().publicKey)) }
        var badCheckpoint = try await fixture.contents()
        badCheckpoint.logKey = try NoteSigner.generate(name: "log.vouch.test").verifierKey
        await #expect(throws: VouchKitError.self) { try await TrustBundle(trusting: badCheckpoint) }
    }
}
