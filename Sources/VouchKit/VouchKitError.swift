/// An error thrown by VouchKit when input cannot be used at all: a malformed key, token,
/// DID, proof or document. A credential that parses but fails a check is not an error:
/// verifiers return a result listing every failed check.
public struct VouchKitError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: String, Hashable, Sendable {
        case malformedInput = "malformed input"
        case unsupported = "unsupported"
        case invalidKey = "invalid key"
        case cryptographicFailure = "cryptographic failure"
        case io = "i/o"
    }

    private let code: Code

    /// A sentence a person can act on.
    public let reason: String

    private init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }

    /// The input is not in the expected format.
    public static func malformedInput(_ reason: String) -> Self { Self(.malformedInput, reason) }

    /// The input is well formed but uses something VouchKit does not support (an algorithm, a DID method).
    public static func unsupported(_ reason: String) -> Self { Self(.unsupported, reason) }

    /// A key is unusable: wrong curve, wrong length, not on the curve, missing private part.
    public static func invalidKey(_ reason: String) -> Self { Self(.invalidKey, reason) }

    /// A cryptographic operation failed (signing, randomness).
    public static func cryptographicFailure(_ reason: String) -> Self { Self(.cryptographicFailure, reason) }

    /// Reading or writing a file failed.
    public static func io(_ reason: String) -> Self { Self(.io, reason) }
}
