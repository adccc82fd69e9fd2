import Foundation
import Testing
import VouchTesting
@testable import VouchKit

@Suite("Credentials")
struct CredentialTests {
    func verifier(_ authority: TestAuthority, lists: [StatusList]? = nil, now: Date = Date()) throws -> CredentialVerifier {
        .standard(trustedIssuers: [authority.did], statusLists: try lists ?? authority.statusLists(), now: now)
    }

    @Test("issue then verify, for both key types", arguments: SigningKey.KeyType.allCases)
    func roundTrip(type: SigningKey.KeyType) async throws {
        let authority = TestAuthority(type)
        let device = DeviceAgent(type)
        let token = try await authority.identityCredential(for: device.did)
        let jws = try CompactJWS(parsing: token)
        #expect(jws.header.typ == "vc+jwt")
        #expect(jws.header.cty == "vc")
        #expect(jws.header.kid == "\(authority.did)#\(try DID(authority.did).methodSpecificID)")
        let result = try await verifier(authority).verify(token)
        #expect(result.isValid, "\(result.failures)")
        guard case .valid(let verified) = result else { return }
        #expect(verified.credential.issuer == authority.did)
        #expect(verified.credential.subjectIDs == [device.did.description])
        #expect(verified.credential.types == ["VerifiableCredential", "DeviceIdentityCredential"])
        #expect(verified.credential.status.count == 2)
        let json = verified.credential.json
        #expect(json["credentialSubject"]?["zone"] == "factory-1")
        #expect(json["@context"]?.arrayValue.first == "https://www.w3.org/ns/credentials/v2")
        #expect(json["vc"] == nil)
    }

    @Test("truncated and garbled tokens are rejected, never crash")
    func garbled() async throws {
        let authority = TestAuthority()
        let token = try await authority.identityCredential(for: DeviceAgent().did)
        let verifier = try verifier(authority)
        var mutants = [String]()
        for length in stride(from: 0, to: token.count, by: 7) { mutants.append(String(token.prefix(length))) }
        var bytes = Array(token.utf8)
        for index in stride(from: 0, to: bytes.count, by: 5) {
            let original = bytes[index]
            bytes[index] = original == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            mutants.append(String(decoding: bytes, as: UTF8.self))
            bytes[index] = original
        }
        mutants += ["", ".", "..", "a.b.c", "e30.e30.", token + ".x", token.replacingOccurrences(of: ".", with: "")]
        for mutant in mutants where mutant != token {
            let result = await verifier.verify(mutant)
            #expect(!result.isValid, "accepted \(mutant)")
            #expect(!result.failures.isEmpty)
        }
    }

    @Test("alg none is refused")
    func algNone() async throws {
        let authority = TestAuthority()
        let token = try await authority.identityCredential(for: DeviceAgent().did)
        let parts = token.split(separator: ".")
        let kid = try CompactJWS(parsing: token).header.kid!
        let header = Base64URL.encode(Array(#"{"alg":"none","typ":"vc+jwt","kid":"\#(kid)"}"#.utf8))
        for forged in ["\(header).\(parts[1]).", "\(header).\(parts[1]).\(parts[2])"] {
            let result = try await verifier(authority).verify(forged)
            #expect(result.failures.contains { $0.check == .signature && $0.reason.contains("none") }, "\(result.failures)")
        }
    }

    @Test("an algorithm that does not match the key is refused")
    func algorithmMismatch() async throws {
        let authority = TestAuthority(.ed25519)
        let token = try await authority.identityCredential(for: DeviceAgent().did)
        let jws = try CompactJWS(parsing: token)
        let header = Base64URL.encode(Array(#"{"alg":"ES256","typ":"vc+jwt","kid":"\#(jws.header.kid!)"}"#.utf8))
        let parts = token.split(separator: ".")
        let result = try await verifier(authority).verify("\(header).\(parts[1]).\(parts[2])")
        #expect(result.failures.contains { $0.check == .signature && $0.reason.contains("does not match") }, "\(result.failures)")
    }

    @Test("a kid of another DID is refused, even when that key really signed")
    func kidOfAnotherDID() async throws {
        let authority = TestAuthority()
        let impostorKey = SigningKey.generate()
        let impostorDID = DID(key: impostorKey.publicKey)
        let forger = CredentialIssuer(key: impostorKey, did: try DID(authority.did), keyID: impostorDID.didKeyVerificationMethod.description)
        let token = try await forger.issue(types: ["DeviceIdentityCredential"], subject: DeviceAgent().did.description)
        let result = try await verifier(authority).verify(token)
        #expect(result.failures.contains { $0.check == .signature && $0.reason.contains("belongs to") }, "\(result.failures)")
    }

    @Test("expired and not-yet-valid credentials are refused; skew is tolerated")
    func validity() async throws {
        let authority = TestAuthority()
        let device = DeviceAgent()
        let now = Date()
        let expired = try await authority.identityCredential(for: device.did, validFrom: now.addingTimeInterval(-7200), validFor: 3600)
        let future = try await authority.identityCredential(for: device.did, validFrom: now.addingTimeInterval(3600))
        let barely = try await authority.identityCredential(for: device.did, validFrom: now.addingTimeInterval(30))
        #expect(try await verifier(authority, now: now).verify(expired).failures.map(\.check) == [.validity])
        #expect(try await verifier(authority, now: now).verify(future).failures.map(\.check) == [.validity])
        #expect(try await verifier(authority, now: now).verify(barely).isValid)
    }

    @Test("revoked and suspended credentials are refused; a missing list fails closed")
    func status() async throws {
        let authority = TestAuthority()
        let token = try await authority.identityCredential(for: DeviceAgent().did, index: 1234)
        let revoked = try await verifier(authority, lists: authority.statusLists(revoked: [1234])).verify(token)
        #expect(revoked.failures.map(\.reason) == ["revoked (status list index 1234)"])
        let suspended = try await verifier(authority, lists: authority.statusLists(suspended: [1234])).verify(token)
        #expect(suspended.failures.map(\.reason) == ["suspended (status list index 1234)"])
        let others = try await verifier(authority, lists: authority.statusLists(revoked: [1233, 1235], suspended: [0])).verify(token)
        #expect(others.isValid)
        let missing = try await verifier(authority, lists: []).verify(token)
        #expect(missing.failures.count == 2)
        #expect(missing.failures.allSatisfy { $0.check == .status })
    }

    @Test("every failed check is listed")
    func allFailuresListed() async throws {
        let authority = TestAuthority()
        let token = try await authority.identityCredential(for: DeviceAgent().did, validFrom: Date().addingTimeInterval(-7200), validFor: 60)
        let result = await CredentialVerifier.standard(trustedIssuers: ["did:key:someone-else"], statusLists: try authority.statusLists(revoked: [7])).verify(token)
        #expect(Set(result.failures.map(\.check)) == [.validity, .trustedIssuer, .status])
    }

    @Test("a verifier without a signature policy accepts nothing")
    func noSignaturePolicy() async throws {
        let authority = TestAuthority()
        let token = try await authority.identityCredential(for: DeviceAgent().did)
        let result = await CredentialVerifier { ValidityPolicy() }.verify(token)
        #expect(result.failures.map(\.check) == [.signature])
    }

    @Test("a status list credential issues and verifies, and its bits drive StatusPolicy")
    func statusListCredential() async throws {
        let authority = TestAuthority()
        var list = try BitstringStatusList()
        try list.set(7)
        let token = try await StatusListCredential.issue(list, purpose: .revocation, url: authority.revocationListURL, issuer: authority.issuer, validFor: 3600)
        let verified = try await StatusListCredential.verify(token, trustedIssuers: [authority.did])
        #expect(verified.url == authority.revocationListURL)
        #expect(verified.purpose == .revocation)
        #expect(try verified.list.isSet(7))
        await #expect(throws: VouchKitError.self) { try await StatusListCredential.verify(token, trustedIssuers: ["did:key:other"]) }
        let credential = try await authority.issuer.issue(
            types: ["DeviceIdentityCredential"], subject: DeviceAgent().did.description,
            status: [CredentialStatusEntry(listURL: authority.revocationListURL, index: 7)])
        let result = await CredentialVerifier.standard(trustedIssuers: [authority.did], statusLists: [verified]).verify(credential)
        #expect(result.failures.map(\.reason) == ["revoked (status list index 7)"])
    }
}
