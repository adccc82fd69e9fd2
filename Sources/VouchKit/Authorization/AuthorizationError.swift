/// Why a policy statement, pattern or authorization request cannot be used at all. A request that
/// is well formed but not allowed is not an error: it gets a deny ``AuthorizationDecision``.
public struct AuthorizationError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: String, Hashable, Sendable {
        case invalidPattern = "invalid pattern"
        case invalidStatement = "invalid statement"
        case invalidRequest = "invalid request"
        case invalidCredential = "invalid credential"
    }

    private let code: Code

    /// A sentence a person can act on.
    public let reason: String

    private init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }

    /// A resource pattern, action name or address range is malformed.
    public static func invalidPattern(_ reason: String) -> Self { Self(.invalidPattern, reason) }

    /// A statement (effect, actions, resources, conditions) is malformed.
    public static func invalidStatement(_ reason: String) -> Self { Self(.invalidStatement, reason) }

    /// The action, resource or context of a request is malformed.
    public static func invalidRequest(_ reason: String) -> Self { Self(.invalidRequest, reason) }

    /// A role credential does not carry usable capabilities.
    public static func invalidCredential(_ reason: String) -> Self { Self(.invalidCredential, reason) }
}
