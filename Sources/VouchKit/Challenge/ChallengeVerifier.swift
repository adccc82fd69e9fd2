import Foundation

/// Verifies challenge responses: signature by a key the device's DID lists for authentication,
/// the expected audience, a bounded timestamp, and a nonce from the store, used once.
public struct ChallengeVerifier: Sendable {
    private let store: NonceStore
    private let audience: String
    private let environment: VerificationEnvironment
    private let clockSkew: TimeInterval

    /// Creates a verifier for responses addressed to `audience`, with nonces from `store`.
    public init(store: NonceStore, audience: String, resolver: any DIDResolver = DIDKeyResolver(), clockSkew: TimeInterval = 60) {
        self.store = store
        self.audience = audience
        self.environment = VerificationEnvironment(resolver: resolver)
        self.clockSkew = clockSkew
    }

    /// Verifies `token`; on success returns the DID that answered.
    public func verify(_ token: String, now: Date = Date()) async -> Result<DID, VerificationFailure> {
        let jws: CompactJWS
        let claims: ChallengeResponse.Claims
        do {
            jws = try CompactJWS(parsing: token.trimmingASCIIWhitespace)
            claims = try jws.decodePayload()
        } catch {
            return .failure(VerificationFailure(.format, "\(error)"))
        }
        guard jws.header.typ == MediaType.challengeResponse else {
            return .failure(VerificationFailure(.mediaType, "typ is \(jws.header.typ ?? "missing"), expected \(MediaType.challengeResponse)"))
        }
        guard let did = try? DID(claims.iss) else {
            return .failure(VerificationFailure(.format, "iss \(claims.iss) is not a DID"))
        }
        // Check the signature before touching the nonce, so a forged answer cannot burn a real device's nonce.
        let signature = await SignaturePolicy().check(jws, controller: did.description, relationship: .authentication, environment: environment)
        if case .failsToMeetPolicy(let failures) = signature { return .failure(failures[0]) }
        guard ConstantTime.equals(claims.aud, audience) else {
            return .failure(VerificationFailure(.audience, "the response is for \(claims.aud), not \(audience)"))
        }
        let issuedAt = claims.iat.date
        guard abs(issuedAt.timeIntervalSince(now)) <= clockSkew else {
            return .failure(VerificationFailure(.validity, "the response time \(RFC3339.format(issuedAt)) is more than \(Int(clockSkew)) s from now"))
        }
        switch store.consume(claims.nonce, audience: audience) {
        case .success: return .success(did)
        case .failure(let failure): return .failure(failure)
        }
    }
}
