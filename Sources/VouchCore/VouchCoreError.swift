/// An error from the authority's domain logic.
public struct VouchCoreError: Error, Sendable, Hashable, CustomStringConvertible {
    enum Code: Sendable, Hashable {
        case inconsistentAuthority
        case malformedRequest
        case rejected
    }

    let code: Code
    /// What went wrong, in words a person can act on.
    public let reason: String

    public var description: String { reason }

    /// Keys and certificates of the authority that do not belong together.
    public static func inconsistentAuthority(_ reason: String) -> Self { Self(code: .inconsistentAuthority, reason: reason) }
    /// A request (CSR, OCSP request, …) that cannot be parsed.
    public static func malformedRequest(_ reason: String) -> Self { Self(code: .malformedRequest, reason: reason) }
    /// A well-formed request that the rules refuse.
    public static func rejected(_ reason: String) -> Self { Self(code: .rejected, reason: reason) }
}
