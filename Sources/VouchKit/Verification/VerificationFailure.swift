/// One failed check, with a reason a person can act on.
public struct VerificationFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which check failed.
    public enum Check: String, Sendable, Hashable, CaseIterable {
        /// The token or its payload is malformed, or breaks the data model.
        case format
        /// `typ`/`cty` are not the expected media types.
        case mediaType
        /// The signature, the key or the `kid` is wrong.
        case signature
        /// Not yet valid, or expired.
        case validity
        /// The issuer is not trusted.
        case trustedIssuer
        /// Revoked, suspended, or the status could not be established.
        case status
        /// The holder is not the subject of a credential.
        case holderBinding
        /// Wrong, missing or reused nonce.
        case nonce
        /// Wrong or missing audience.
        case audience
        /// A credential inside a presentation failed.
        case credential
        /// A replayed or out-of-order message.
        case replay
    }

    /// Which check failed.
    public let check: Check
    /// Why.
    public let reason: String

    /// Creates a failure.
    public init(_ check: Check, _ reason: String) {
        self.check = check
        self.reason = reason
    }

    public var description: String { "\(check.rawValue): \(reason)" }
}

/// The outcome of one policy.
public enum PolicyResult: Sendable, Hashable {
    /// The policy is satisfied.
    case meetsPolicy
    /// The policy is not satisfied, for these reasons.
    case failsToMeetPolicy([VerificationFailure])

    /// A failure with one reason.
    public static func fails(_ check: VerificationFailure.Check, _ reason: String) -> PolicyResult {
        .failsToMeetPolicy([VerificationFailure(check, reason)])
    }

    var failures: [VerificationFailure] {
        if case .failsToMeetPolicy(let failures) = self { return failures }
        return []
    }
}
