/// The outcome of verifying a credential or a presentation: what was verified, or every failed check.
public enum VerificationResult<Verified: Sendable>: Sendable {
    /// Every policy passed.
    case valid(Verified)
    /// At least one check failed; every failure is listed.
    case invalid([VerificationFailure])

    /// Whether it verified.
    public var isValid: Bool {
        if case .valid = self { return true }
        return false
    }

    /// The failures (empty when valid).
    public var failures: [VerificationFailure] {
        if case .invalid(let failures) = self { return failures }
        return []
    }
}
