import Foundation
import Testing
import VouchCore
@testable import VouchKit

/// The library snippets of README.md, run as written, so the README cannot drift from the API.
@Suite("README examples")
struct ReadmeExampleTests {
    @Test("device, issuer and verifier snippets work together")
    func snippets() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-readme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let authorityKey = SigningKey.generate()
        let authorityDID = DID(key: authorityKey.publicKey)
        let issuerKey = SigningKey.generate()
        let nonces = NonceStore(lifetime: 60)
        let challenge = try nonces.issue(audience: "https://gateway.example")

        // On a device.
        let key = SigningKey.generate()
        try key.write(toFile: directory.appendingPathComponent("device.jwk").path)
        let did = DID(key: key.publicKey)
        let message = try await TelemetryEnvelope(device: did, sequence: 1, topic: "plant/1/temp",
                                                  payload: Data("21.5".utf8)).signed(with: key)
        let answer = try await ChallengeResponse.sign(challenge, key: key)

        // On an issuer.
        let issuer = CredentialIssuer(key: issuerKey)
        let credential = try await issuer.issue(
            types: ["DeviceIdentityCredential"], subject: did.description,
            claims: ["zone": "factory-1"], validFor: 30 * 86_400,
            status: [CredentialStatusEntry(listURL: "https://vouch.example/status/1", index: 42)])
        let presentation = try await Presentation.create(credentials: [credential], holderKey: key,
                                                         nonce: challenge.nonce, audience: challenge.audience)

        // The authority's bundle, with the status list and a log checkpoint.
        let list = try await StatusListCredential.issue(try BitstringStatusList(), purpose: .revocation,
                                                        url: "https://vouch.example/status/1", issuer: issuer, validFor: 3600)
        var tree = MerkleTree()
        let entry = Data("enrolled \(did)".utf8)
        for index in 0..<5 { tree.append(Data("entry \(index)".utf8)) }
        let leafIndex = tree.append(entry)
        let logSigner = try NoteSigner.generate(name: "log.vouch.example")
        let note = try logSigner.sign(try Checkpoint(origin: "log.vouch.example", size: tree.size, rootHash: try tree.rootHash()).text).serialized
        let logKey = logSigner.verifierKey
        let proof = try tree.inclusionProof(leafIndex: leafIndex, treeSize: tree.size).hashes
        let bundleToken = try await TrustBundle.sign(
            TrustBundle.Contents(authority: authorityDID.description, expiresAt: Date().addingTimeInterval(86_400),
                                 trustedIssuers: [TrustedIssuer(id: issuer.did.description)],
                                 statusListCredentials: [list], checkpoint: note, logKey: logKey),
            key: authorityKey)

        // On a verifier, offline.
        let bundle = try await TrustBundle(verifying: bundleToken, authority: authorityDID)
        let verifier = CredentialVerifier(trust: bundle) {
            MediaTypePolicy()
            SignaturePolicy()
            ValidityPolicy()
            TrustedIssuerPolicy()
            StatusPolicy()
        }
        var subjects: [String] = []
        switch await verifier.verify(credential) {
        case .valid(let verified): subjects = verified.credential.subjectIDs
        case .invalid(let failures): Issue.record("\(failures)")
        }
        #expect(subjects == [did.description])

        let presented = PresentationVerifier.standard(nonce: challenge.nonce, audience: challenge.audience, trust: bundle,
                                                      credentialVerifier: .standard(trust: bundle))
        switch await presented.verify(presentation) {
        case .valid(let verified):
            #expect(verified.presentation.holder == did.description)
            #expect(verified.credentials.map(\.subjectIDs) == [[did.description]])
        case .invalid(let failures): Issue.record("the README's presentation does not verify: \(failures)")
        }
        // Bound to the nonce: another verifier's nonce refuses it.
        let elsewhere = PresentationVerifier.standard(nonce: "another-nonce", audience: challenge.audience, trust: bundle,
                                                      credentialVerifier: .standard(trust: bundle))
        guard case .invalid(let failures) = await elsewhere.verify(presentation) else {
            Issue.record("a presentation for another nonce verified")
            return
        }
        #expect(failures.contains { $0.check == .nonce }, "\(failures)")

        let telemetry = TelemetryVerifier(replayGuard: ReplayGuard(capacity: 1_000_000, window: 300))
        let accepted = try await telemetry.verify(message).get()
        #expect(accepted.sequence == 1)

        let device = try await ChallengeVerifier(store: nonces, audience: "https://gateway.example").verify(answer).get()
        #expect(device == did)

        let checkpoint = try Checkpoint.verify(signedNote: note, verifiers: [NoteVerifier(verifierKey: logKey)]).get()
        let verdict = try InclusionProof(leafIndex: 5, treeSize: checkpoint.size, hashes: proof)
            .verify(leafHash: MerkleHash.leafHash(entry), rootHash: checkpoint.rootHash)
        #expect(verdict == .valid)
    }
}
