import Foundation

/// The credential is valid now: `validFrom` ≤ now ≤ `validUntil`, allowing a bounded clock skew.
/// JWT `nbf`/`exp`, when present, are checked the same way.
public struct ValidityPolicy: Sendable {
    /// The instant to check against.
    public let now: Date
    /// The tolerated clock difference between issuer and verifier.
    public let clockSkew: TimeInterval

    /// Creates the policy; the skew is capped at 5 minutes.
    public init(now: Date = Date(), clockSkew: TimeInterval = 60) {
        self.now = now
        self.clockSkew = min(max(clockSkew, 0), 300)
    }

    func check(notBefore: Date?, notAfter: Date?) -> [VerificationFailure] {
        var failures: [VerificationFailure] = []
        if let notBefore, notBefore > now.addingTimeInterval(clockSkew) {
            failures.append(VerificationFailure(.validity, "not valid before \(RFC3339.format(notBefore))"))
        }
        if let notAfter, notAfter < now.addingTimeInterval(-clockSkew) {
            failures.append(VerificationFailure(.validity, "expired at \(RFC3339.format(notAfter))"))
        }
        return failures
    }
}

extension ValidityPolicy: CredentialPolicy {
    public func evaluate(_ candidate: CredentialCandidate) async -> PolicyResult {
        let credential = candidate.credential
        var failures: [VerificationFailure] = []
        var notBefore: Date?
        var notAfter: Date?
        if let text = credential.validFrom {
            notBefore = RFC3339.parse(text)
            if notBefore == nil { failures.append(VerificationFailure(.validity, "validFrom " + RFC3339.refusal(text))) }
        }
        if let text = credential.validUntil {
            notAfter = RFC3339.parse(text)
            if notAfter == nil { failures.append(VerificationFailure(.validity, "validUntil " + RFC3339.refusal(text))) }
        }
        if let notBefore, let notAfter, notAfter < notBefore {
            failures.append(VerificationFailure(.validity, "validUntil is before validFrom"))
        }
        failures += check(notBefore: notBefore, notAfter: notAfter)
        return failures.isEmpty ? .meetsPolicy : .failsToMeetPolicy(failures)
    }
}
