/// The answer to an ``AuthorizationRequest``: allow or deny, with every reason.
public struct AuthorizationDecision: Sendable, Hashable {
    /// One reason: what it says, and the statement or rule it comes from.
    public struct Reason: Sendable, Hashable, CustomStringConvertible {
        /// Why, in a word.
        public enum Code: String, Sendable, Hashable, CaseIterable {
            /// An allow statement matched.
            case allowed
            /// A deny statement matched; denies win.
            case explicitDeny = "explicit-deny"
            /// No statement allows the request: denied by default.
            case noAllow = "no-allow"
            /// A flow rule lets the subject's zone reach the peer's.
            case flow
            /// No flow rule lets the subject's zone reach the peer's.
            case noFlow = "no-flow"
            /// The quarantine zone reaches nothing, and nothing reaches it.
            case quarantine
            /// The subject's zone is not defined by the policy.
            case unknownZone = "unknown-zone"
            /// The device may not act at all (suspended, revoked, pending, unknown).
            case subject
            /// The peer is unknown, or may not act.
            case peer
            /// Information about how the subject was resolved.
            case note
        }

        /// What kind of reason.
        public let code: Code
        /// A sentence a person can act on.
        public let message: String
        /// The statement or rule that decided, such as `roles.sensor.deny[0]`.
        public let source: String?

        /// Creates a reason.
        public init(_ code: Code, _ message: String, source: String? = nil) {
            self.code = code
            self.message = message
            self.source = source
        }

        public var description: String { source.map { "\(message) (\($0))" } ?? message }
    }

    /// Whether the request is allowed.
    public let allowed: Bool
    /// Why: the statements that allowed, or what denied; never empty.
    public let reasons: [Reason]
    /// The policy version decided under; nil when no policy applied.
    public let policyVersion: Int?

    /// Creates a decision.
    public init(allowed: Bool, reasons: [Reason], policyVersion: Int?) {
        self.allowed = allowed
        self.reasons = reasons
        self.policyVersion = policyVersion
    }

    /// A deny for a subject that may not act at all.
    public static func deny(_ message: String, code: Reason.Code = .subject, policyVersion: Int? = nil) -> AuthorizationDecision {
        AuthorizationDecision(allowed: false, reasons: [Reason(code, message)], policyVersion: policyVersion)
    }
}
