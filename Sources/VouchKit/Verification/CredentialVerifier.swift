import Foundation

/// Verifies `vc+jwt` credentials against a set of policies, offline when given a trust bundle.
///
/// ```swift
/// let verifier = CredentialVerifier(trust: bundle) {
///     MediaTypePolicy()
///     SignaturePolicy()
///     ValidityPolicy()
///     TrustedIssuerPolicy()
///     StatusPolicy()
/// }
/// switch await verifier.verify(token) {
/// case .valid(let verified): print(verified.credential.subjectIDs)
/// case .invalid(let failures): failures.forEach { print($0) }
/// }
/// ```
///
/// Every policy runs, so an invalid credential lists every failed check. A verifier without a
/// ``SignaturePolicy`` accepts nothing.
public struct CredentialVerifier: Sendable {
    /// The environment policies consult.
    public let environment: VerificationEnvironment
    private let policies: [any CredentialPolicy]
    private let checksSignatures: Bool

    /// Creates a verifier.
    public init(
        trust: TrustBundle? = nil, resolver: any DIDResolver = DIDKeyResolver(),
        @CredentialPolicyBuilder policies: () -> [any CredentialPolicy]
    ) {
        self.environment = VerificationEnvironment(trust: trust, resolver: resolver)
        self.policies = policies()
        self.checksSignatures = self.policies.contains { $0 is SignaturePolicy }
    }

    /// The usual policy set: media type, signature, validity, trusted issuers and status.
    /// With a trust bundle, trusted issuers and status lists come from it.
    public static func standard(
        trust: TrustBundle? = nil, resolver: any DIDResolver = DIDKeyResolver(), trustedIssuers: Set<String>? = nil,
        statusLists: [StatusList]? = nil, now: Date = Date()
    ) -> CredentialVerifier {
        CredentialVerifier(trust: trust, resolver: resolver) {
            MediaTypePolicy()
            SignaturePolicy()
            ValidityPolicy(now: now)
            TrustedIssuerPolicy(issuers: trustedIssuers)
            StatusPolicy(lists: statusLists, now: now)
        }
    }

    /// Verifies a compact `vc+jwt`.
    public func verify(_ token: String) async -> CredentialVerificationResult {
        let trimmed = token.trimmingASCIIWhitespace
        let jws: CompactJWS
        let credential: Credential
        do {
            jws = try CompactJWS(parsing: trimmed)
            credential = try Credential(bytes: jws.payloadBytes)
        } catch {
            return .invalid([VerificationFailure(.format, "\(error)")])
        }
        var failures = credential.dataModelProblems.map { VerificationFailure(.format, $0) }
        if !checksSignatures {
            failures.append(VerificationFailure(.signature, "the verifier has no SignaturePolicy, so no signature was checked"))
        }
        let candidate = CredentialCandidate(jws: jws, credential: credential, environment: environment)
        for policy in policies {
            failures += await policy.evaluate(candidate).failures
        }
        return failures.isEmpty ? .valid(VerifiedCredential(jws: jws, credential: credential)) : .invalid(failures)
    }
}

/// The outcome of verifying a credential.
public typealias CredentialVerificationResult = VerificationResult<VerifiedCredential>

/// A credential that passed verification.
public struct VerifiedCredential: Sendable {
    /// The JWS it came in.
    public let jws: CompactJWS
    /// The credential.
    public let credential: Credential
}
