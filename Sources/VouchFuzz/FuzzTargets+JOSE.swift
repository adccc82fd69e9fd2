import Foundation
import VouchKit

/// Compact JWS and what their payloads carry: credentials, presentations, challenge answers and
/// device proofs.
extension FuzzTargets {
    /// A compact JWS as every verifier splits it, then read as the server reads a self-signed
    /// proof (`verifySelfSigned`): its `kid` a did:key DID URL, its signature checked with that
    /// key, its payload decoded.
    static func jws(_ data: Data) {
        guard let jws = try? CompactJWS(parsing: String(decoding: data, as: UTF8.self)) else { return }
        _ = jws.signingInput.count
        if let kid = jws.header.kid, let url = try? DIDURL(kid), let key = try? url.did.didKeyPublicKey() {
            _ = JWS.verify(jws, key: key)
        }
        _ = try? jws.decodePayload(as: DeviceProof.self)
        _ = try? Credential(payload: jws.payload)
    }

    /// A JOSE protected header, as JSON: wrapped into a JWS whose payload and signature are empty.
    static func joseHeader(_ data: Data) {
        guard let jws = try? CompactJWS(parsing: Base64URL.encode(Array(data)) + "..") else { return }
        _ = JWSAlgorithm(rawValue: jws.header.alg)
    }

    /// The payload of a `vc+jwt`, read by the one-pass reader, with what the verifier reads next.
    static func credential(_ data: Data) {
        guard let credential = try? Credential(payload: data) else { return }
        _ = credential.json
        for entry in credential.status { _ = entry.index }
        _ = credential.validFrom.flatMap(RFC3339.parse)
        _ = credential.validUntil.flatMap(RFC3339.parse)
        for id in credential.subjectIDs { _ = try? DID(id) }
    }

    /// The payload of a `vp+jwt`, and each enveloped credential split as a JWS.
    static func presentation(_ data: Data) {
        guard let presentation = try? Presentation(payload: data) else { return }
        _ = try? DID(presentation.holder)
        for token in presentation.credentials { _ = try? CompactJWS(parsing: token) }
    }

    /// The payload of a challenge answer (`vouch-challenge+jwt`), signed by the fixture's device
    /// key and checked by ``ChallengeVerifier`` (signature, audience, time, then the nonce).
    static func challengeResponse(_ data: Data) {
        let token = FuzzFixture.token(payload: data, type: "vouch-challenge+jwt")
        _ = runBlocking {
            let store = NonceStore(clock: { FuzzFixture.now })
            let verifier = ChallengeVerifier(store: store, audience: "https://vouch.test")
            return (try? await verifier.verify(token, now: FuzzFixture.now).get()) != nil
        }
    }

    /// A DPoP proof (RFC 9449) as the server checks the one sent with a token request and with
    /// each use of a token: the key from its header, the signature, then the claims.
    static func dpopProof(_ data: Data) {
        let proof = String(decoding: data, as: UTF8.self)
        checkDPoP(proof)
        if let jws = try? CompactJWS(parsing: proof), let jwk = jws.header.jwk { _ = try? PublicKey(jwk: jwk) }
    }

    /// The claims of a DPoP proof (`jti`, `htm`, `htu`, `iat`, `ath`), signed by the fixture's
    /// device key, its public key in the header, then checked.
    static func dpopClaims(_ data: Data) {
        checkDPoP(FuzzFixture.token(payload: data, header: FuzzFixture.dpopHeader))
    }

    private static func checkDPoP(_ proof: String) {
        for accessToken in [nil, "access-token"] {
            if case .success(let checked) = DPoPProof.verify(proof, method: "POST", accessToken: accessToken, now: FuzzFixture.now) {
                _ = DPoPProof.target(checked.url)
            }
        }
    }

    /// The payload of a device proof (`vouch-device+jwt`) and of a proof of possession
    /// (`vouch-pop+jwt`), decoded as the server decodes them once their signature holds.
    static func deviceProof(_ data: Data) {
        // `CompactJWS.decodePayload(as:)` is `JSONDecoder` over the payload bytes.
        _ = try? JSONDecoder().decode(DeviceProof.self, from: data)
        _ = try? JSONDecoder().decode(PossessionProof.self, from: data)
    }
}
