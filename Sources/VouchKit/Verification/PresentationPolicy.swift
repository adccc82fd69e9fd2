/// One trust rule a presentation must meet, composed in a ``PresentationVerifier``.
public protocol PresentationPolicy: Sendable {
    /// Checks `candidate` against this rule.
    func evaluate(_ candidate: PresentationCandidate) async -> PolicyResult
}

/// A presentation being verified, with the credentials it carries already read (not yet verified).
public struct PresentationCandidate: Sendable {
    /// The parsed JWS.
    public let jws: CompactJWS
    /// The presentation in its payload.
    public let presentation: Presentation
    /// The enveloped credentials, parsed; `nil` where a token could not be read.
    public let credentials: [Credential?]
    /// Trust bundle and resolver.
    public let environment: VerificationEnvironment
}

/// Builds a list of presentation policies.
@resultBuilder
public enum PresentationPolicyBuilder {
    public static func buildExpression(_ policy: some PresentationPolicy) -> [any PresentationPolicy] { [policy] }
    public static func buildBlock(_ parts: [any PresentationPolicy]...) -> [any PresentationPolicy] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [any PresentationPolicy]?) -> [any PresentationPolicy] { part ?? [] }
    public static func buildEither(first: [any PresentationPolicy]) -> [any PresentationPolicy] { first }
    public static func buildEither(second: [any PresentationPolicy]) -> [any PresentationPolicy] { second }
    public static func buildArray(_ parts: [[any PresentationPolicy]]) -> [any PresentationPolicy] { parts.flatMap { $0 } }
}
