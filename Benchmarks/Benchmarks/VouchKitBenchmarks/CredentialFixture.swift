import Crypto
import Foundation
import VouchKit

/// What the credential and presentation benchmarks verify: an Ed25519 issuer, a device identity
/// credential about an Ed25519 holder with a revocation and a suspension entry, the two status
/// lists those entries point at, and a presentation of the credential by its holder.
///
/// Each benchmark builds its own in its setup, so issuing costs nothing in the measurement.
struct CredentialFixture: Sendable {
    /// The issuer's key as swift-crypto holds it, for the raw Ed25519 baseline.
    let issuerCryptoKey: Curve25519.Signing.PublicKey
    /// The issuer's key as VouchKit holds it.
    let issuerKey: PublicKey
    /// The issuer's did:key.
    let issuerDID: DID
    /// The `vc+jwt`.
    let credential: String
    /// The `vc+jwt`, parsed.
    let credentialJWS: CompactJWS
    /// The bytes the credential's signature covers (`header.payload`) and the signature: the
    /// raw baseline verifies exactly what the full verification does.
    let signingInput: [UInt8]
    let signature: [UInt8]
    /// The lists the credential's status entries point at; no bit of the credential is set.
    let statusLists: [StatusList]
    /// A `vp+jwt` presenting ``credential``, answering ``nonce`` for ``audience``.
    let presentation: String
    let nonce: String
    let audience: String

    static let revocationListURL = "https://status.vouch.example/revocation/1"
    static let suspensionListURL = "https://status.vouch.example/suspension/1"

    /// Issues the credential and the presentation with fresh keys.
    static func make() async throws -> CredentialFixture {
        let issuerPrivate = Curve25519.Signing.PrivateKey()
        let issuer = CredentialIssuer(key: try SigningKey(ed25519Seed: issuerPrivate.rawRepresentation))
        let holderKey = SigningKey.generate(.ed25519)
        let holder = DID(key: holderKey.publicKey)
        let index = 94_567
        let credential = try await issuer.issue(
            types: ["DeviceIdentityCredential"], subject: holder.description,
            claims: ["zone": "factory-1", "model": "vouch-sensor-2"],
            validFrom: Date(), validFor: 30 * 86_400,
            status: [
                CredentialStatusEntry(listURL: revocationListURL, index: index, purpose: .revocation),
                CredentialStatusEntry(listURL: suspensionListURL, index: index, purpose: .suspension),
            ])
        let jws = try CompactJWS(parsing: credential)

        // Some other credentials are revoked or suspended; this one is not.
        var revocation = try BitstringStatusList()
        var suspension = try BitstringStatusList()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1_000 {
            let other = Int.random(in: 0..<revocation.size, using: &generator)
            if other != index { try revocation.set(other) }
            let another = Int.random(in: 0..<suspension.size, using: &generator)
            if another != index { try suspension.set(another) }
        }

        let nonce = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let audience = "did:web:gateway.vouch.example"
        let presentation = try await Presentation.create(
            credentials: [credential], holderKey: holderKey, nonce: nonce, audience: audience, validFor: 3_600)

        return CredentialFixture(
            issuerCryptoKey: issuerPrivate.publicKey,
            issuerKey: issuer.did.didKeyPublicKeyOrFail(),
            issuerDID: issuer.did,
            credential: credential,
            credentialJWS: jws,
            signingInput: Array(jws.signingInput),
            signature: jws.signature,
            statusLists: [
                StatusList(url: revocationListURL, purpose: .revocation, list: revocation),
                StatusList(url: suspensionListURL, purpose: .suspension, list: suspension),
            ],
            presentation: presentation,
            nonce: nonce,
            audience: audience
        )
    }

    /// The standard credential verifier, trusting the issuer and holding both status lists.
    func credentialVerifier() -> CredentialVerifier {
        .standard(trustedIssuers: [issuerDID.description], statusLists: statusLists)
    }

    /// The standard presentation verifier for ``nonce`` and ``audience``.
    func presentationVerifier() -> PresentationVerifier {
        .standard(nonce: nonce, audience: audience, credentialVerifier: credentialVerifier())
    }
}

extension DID {
    /// The key of a did:key made from a key in this process, which always decodes.
    fileprivate func didKeyPublicKeyOrFail() -> PublicKey {
        do {
            return try didKeyPublicKey()
        } catch {
            fatalError("a did:key made from a fresh key does not decode: \(error)")
        }
    }
}
