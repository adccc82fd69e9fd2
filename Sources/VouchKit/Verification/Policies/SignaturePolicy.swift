/// The JWS signature verifies with a key of the issuer (for a credential) or the holder (for a
/// presentation): the `kid` must be a verification method of that DID (or a key the trust bundle
/// lists for it), the method must be allowed for the purpose, `alg` must match the key, and the
/// header must not mark any extension as critical (RFC 7515 §4.1.11: VouchKit implements none).
public struct SignaturePolicy: Sendable {
    /// Creates the policy.
    public init() {}

    func check(_ jws: CompactJWS, controller: String, relationship: DIDDocument.Relationship, environment: VerificationEnvironment) async -> PolicyResult {
        if let crit = jws.header.crit {
            return .fails(.signature, "the header marks extensions VouchKit does not implement as critical: \(crit.joined(separator: ", "))")
        }
        guard let algorithm = JWSAlgorithm(rawValue: jws.header.alg) else {
            return .fails(.signature, "algorithm \"\(jws.header.alg)\" is not accepted; use EdDSA (or Ed25519) or ES256")
        }
        guard !controller.isEmpty else {
            return .fails(.signature, "no issuer or holder to resolve the key from")
        }
        let key: PublicKey
        switch await environment.resolveKey(kid: jws.header.kid, controller: controller, relationship: relationship) {
        case .success(let resolved): key = resolved
        case .failure(let failure): return .failsToMeetPolicy([failure])
        }
        guard algorithm.verifies(with: key.algorithm) else {
            return .fails(.signature, "alg \(algorithm.rawValue) does not match the \(key.algorithm.rawValue) key \(jws.header.kid ?? "")")
        }
        guard JWS.verify(jws, key: key) else {
            return .fails(.signature, "the signature does not verify with \(jws.header.kid ?? "the key")")
        }
        return .meetsPolicy
    }
}

extension SignaturePolicy: CredentialPolicy {
    public func evaluate(_ candidate: CredentialCandidate) async -> PolicyResult {
        await check(candidate.jws, controller: candidate.credential.issuer, relationship: .assertionMethod, environment: candidate.environment)
    }
}
