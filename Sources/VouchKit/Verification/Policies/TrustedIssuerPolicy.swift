/// The issuer is one the verifier trusts: listed explicitly, or in the trust bundle. With neither,
/// no issuer is trusted.
public struct TrustedIssuerPolicy: Sendable {
    private let issuers: Set<String>?

    /// Trusts `issuers` (DIDs or issuer URLs); `nil` means the trust bundle's issuers.
    public init(issuers: Set<String>? = nil) {
        self.issuers = issuers
    }

    func trusted(_ issuer: String, environment: VerificationEnvironment) -> Bool {
        if let issuers { return issuers.contains(issuer) }
        return environment.trust?.trustedIssuers.contains(where: { $0.id == issuer }) ?? false
    }
}

extension TrustedIssuerPolicy: CredentialPolicy {
    public func evaluate(_ candidate: CredentialCandidate) async -> PolicyResult {
        let issuer = candidate.credential.issuer
        guard !issuer.isEmpty else { return .fails(.trustedIssuer, "the credential names no issuer") }
        guard trusted(issuer, environment: candidate.environment) else {
            return .fails(.trustedIssuer, "issuer \(issuer) is not trusted")
        }
        return .meetsPolicy
    }
}
