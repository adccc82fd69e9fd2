import Foundation

/// Verifies `vp+jwt` presentations: the holder's signature, freshness, nonce and audience, holder
/// binding, and each enveloped credential through a ``CredentialVerifier``.
///
/// ```swift
/// let verifier = PresentationVerifier(trust: bundle) {
///     MediaTypePolicy()
///     SignaturePolicy()
///     ValidityPolicy()
///     NoncePolicy(expected: nonce)
///     AudiencePolicy(expected: "did:web:gateway.example")
///     HolderBindingPolicy()
///     EnvelopedCredentialsPolicy(verifier: .standard(trust: bundle))
/// }
/// ```
public struct PresentationVerifier: Sendable {
    /// The environment policies consult.
    public let environment: VerificationEnvironment
    private let policies: [any PresentationPolicy]
    private let checksSignatures: Bool

    /// Creates a verifier.
    public init(
        trust: TrustBundle? = nil, resolver: any DIDResolver = DIDKeyResolver(),
        @PresentationPolicyBuilder policies: () -> [any PresentationPolicy]
    ) {
        self.environment = VerificationEnvironment(trust: trust, resolver: resolver)
        self.policies = policies()
        self.checksSignatures = self.policies.contains { $0 is SignaturePolicy }
    }

    /// The usual policy set for a verifier that issued `nonce` and is `audience`.
    public static func standard(
        nonce: String, audience: String, trust: TrustBundle? = nil, resolver: any DIDResolver = DIDKeyResolver(),
        credentialVerifier: CredentialVerifier, now: Date = Date()
    ) -> PresentationVerifier {
        PresentationVerifier(trust: trust, resolver: resolver) {
            MediaTypePolicy()
            SignaturePolicy()
            ValidityPolicy(now: now)
            NoncePolicy(expected: nonce)
            AudiencePolicy(expected: audience)
            HolderBindingPolicy()
            EnvelopedCredentialsPolicy(verifier: credentialVerifier)
        }
    }

    /// Verifies a compact `vp+jwt`.
    public func verify(_ token: String) async -> PresentationVerificationResult {
        let jws: CompactJWS
        let presentation: Presentation
        do {
            jws = try CompactJWS(parsing: token.trimmingASCIIWhitespace)
            presentation = try Presentation(payload: jws.payload)
        } catch {
            return .invalid([VerificationFailure(.format, "\(error)")])
        }
        var failures = presentation.dataModelProblems.map { VerificationFailure(.format, $0) }
        if !checksSignatures {
            failures.append(VerificationFailure(.signature, "the verifier has no SignaturePolicy, so no signature was checked"))
        }
        let credentials = presentation.credentials.map { token in
            (try? CompactJWS(parsing: token)).flatMap { try? Credential(bytes: $0.payloadBytes) }
        }
        let candidate = PresentationCandidate(jws: jws, presentation: presentation, credentials: credentials, environment: environment)
        for policy in policies {
            failures += await policy.evaluate(candidate).failures
        }
        return failures.isEmpty
            ? .valid(VerifiedPresentation(jws: jws, presentation: presentation, credentials: credentials.compactMap { $0 }))
            : .invalid(failures)
    }
}

/// The outcome of verifying a presentation.
public typealias PresentationVerificationResult = VerificationResult<VerifiedPresentation>

/// A presentation that passed verification, with its credentials.
public struct VerifiedPresentation: Sendable {
    /// The JWS it came in.
    public let jws: CompactJWS
    /// The presentation.
    public let presentation: Presentation
    /// The verified credentials.
    public let credentials: [Credential]
}
