import Foundation

extension MediaTypePolicy: PresentationPolicy {
    public func evaluate(_ candidate: PresentationCandidate) async -> PolicyResult {
        check(candidate.jws.header, type: MediaType.presentation, contentType: "vp")
    }
}

extension SignaturePolicy: PresentationPolicy {
    public func evaluate(_ candidate: PresentationCandidate) async -> PolicyResult {
        await check(candidate.jws, controller: candidate.presentation.holder, relationship: .authentication, environment: candidate.environment)
    }
}

extension ValidityPolicy: PresentationPolicy {
    /// A presentation must carry `iat` and `exp`, be issued no later than now (with skew), not be
    /// expired, and live at most a day.
    public func evaluate(_ candidate: PresentationCandidate) async -> PolicyResult {
        let presentation = candidate.presentation
        guard let issuedAt = presentation.issuedAt, let expiresAt = presentation.expiresAt else {
            return .fails(.validity, "a presentation must carry iat and exp")
        }
        var failures = check(notBefore: issuedAt, notAfter: expiresAt)
        if expiresAt.timeIntervalSince(issuedAt) > 86_400 {
            failures.append(VerificationFailure(.validity, "a presentation may live at most 24 hours"))
        }
        return failures.isEmpty ? .meetsPolicy : .failsToMeetPolicy(failures)
    }
}

/// The presentation answers the verifier's challenge: its `nonce` equals the expected one (compared
/// in constant time), or, with a ``NonceStore``, was issued by the store and has not been used.
public struct NoncePolicy: PresentationPolicy {
    private let expected: String?
    private let store: NonceStore?

    /// Requires `nonce` to equal `expected`.
    public init(expected: String) {
        self.expected = expected
        self.store = nil
    }

    /// Requires the nonce to be one `store` issued, and consumes it: a second use fails.
    public init(store: NonceStore) {
        self.expected = nil
        self.store = store
    }

    public func evaluate(_ candidate: PresentationCandidate) async -> PolicyResult {
        guard let nonce = candidate.presentation.nonce, !nonce.isEmpty else {
            return .fails(.nonce, "the presentation has no nonce")
        }
        if let expected {
            return ConstantTime.equals(nonce, expected) ? .meetsPolicy : .fails(.nonce, "the nonce is not the one this verifier issued")
        }
        if let store {
            let audience = candidate.presentation.audience.first ?? ""
            switch store.consume(nonce, audience: audience) {
            case .success: return .meetsPolicy
            case .failure(let failure): return .failsToMeetPolicy([failure])
            }
        }
        return .fails(.nonce, "no expected nonce configured")
    }
}

/// The presentation is addressed to this verifier: `aud` contains the expected audience.
public struct AudiencePolicy: PresentationPolicy {
    private let expected: String

    /// Requires `aud` to contain `expected`.
    public init(expected: String) {
        self.expected = expected
    }

    public func evaluate(_ candidate: PresentationCandidate) async -> PolicyResult {
        let audience = candidate.presentation.audience
        guard !audience.isEmpty else { return .fails(.audience, "the presentation has no aud") }
        return audience.contains(expected)
            ? .meetsPolicy
            : .fails(.audience, "the presentation is for \(audience.joined(separator: ", ")), not \(expected)")
    }
}

/// The holder is the subject of every credential it presents, so nobody can present another's credential.
public struct HolderBindingPolicy: PresentationPolicy {
    /// Creates the policy.
    public init() {}

    public func evaluate(_ candidate: PresentationCandidate) async -> PolicyResult {
        let holder = candidate.presentation.holder
        guard !candidate.presentation.credentials.isEmpty else {
            return .fails(.holderBinding, "the presentation carries no credential")
        }
        var failures: [VerificationFailure] = []
        for (index, credential) in candidate.credentials.enumerated() {
            guard let credential else {
                failures.append(VerificationFailure(.holderBinding, "credential[\(index)] cannot be read"))
                continue
            }
            if credential.subjectIDs.isEmpty || !credential.subjectIDs.allSatisfy({ $0 == holder }) {
                failures.append(VerificationFailure(.holderBinding, "credential[\(index)] is about \(credential.subjectIDs.joined(separator: ", ")), not the holder \(holder)"))
            }
        }
        return failures.isEmpty ? .meetsPolicy : .failsToMeetPolicy(failures)
    }
}

/// Every enveloped credential passes the given ``CredentialVerifier``.
public struct EnvelopedCredentialsPolicy: PresentationPolicy {
    private let verifier: CredentialVerifier

    /// Verifies each credential with `verifier`.
    public init(verifier: CredentialVerifier) {
        self.verifier = verifier
    }

    public func evaluate(_ candidate: PresentationCandidate) async -> PolicyResult {
        var failures: [VerificationFailure] = []
        for (index, token) in candidate.presentation.credentials.enumerated() {
            for failure in await verifier.verify(token).failures {
                failures.append(VerificationFailure(.credential, "credential[\(index)] \(failure.check.rawValue): \(failure.reason)"))
            }
        }
        return failures.isEmpty ? .meetsPolicy : .failsToMeetPolicy(failures)
    }
}
