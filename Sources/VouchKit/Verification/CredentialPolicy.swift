/// One trust rule a credential must meet. Policies are composed in a ``CredentialVerifier``;
/// each returns a result with reasons instead of throwing.
public protocol CredentialPolicy: Sendable {
    /// Checks `candidate` against this rule.
    func evaluate(_ candidate: CredentialCandidate) async -> PolicyResult
}

/// A credential being verified: the parsed JWS, the credential read from its payload, and the
/// environment (trust bundle, resolver) the verifier runs in.
public struct CredentialCandidate: Sendable {
    /// The parsed JWS.
    public let jws: CompactJWS
    /// The credential in its payload.
    public let credential: Credential
    /// Trust bundle and resolver.
    public let environment: VerificationEnvironment
}

/// Builds a list of credential policies: `CredentialVerifier(trust: bundle) { SignaturePolicy(); ValidityPolicy() }`.
@resultBuilder
public enum CredentialPolicyBuilder {
    public static func buildExpression(_ policy: some CredentialPolicy) -> [any CredentialPolicy] { [policy] }
    public static func buildBlock(_ parts: [any CredentialPolicy]...) -> [any CredentialPolicy] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [any CredentialPolicy]?) -> [any CredentialPolicy] { part ?? [] }
    public static func buildEither(first: [any CredentialPolicy]) -> [any CredentialPolicy] { first }
    public static func buildEither(second: [any CredentialPolicy]) -> [any CredentialPolicy] { second }
    public static func buildArray(_ parts: [[any CredentialPolicy]]) -> [any CredentialPolicy] { parts.flatMap { $0 } }
}
