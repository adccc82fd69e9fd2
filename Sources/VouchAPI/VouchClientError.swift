import Foundation

/// Why a ``VouchClient`` call did not return what it asked for.
public struct VouchClientError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The server answered with a status outside 2xx.
        case refused
        /// No answer: the server could not be reached, or the connection broke.
        case unreachable
        /// A 2xx answer that is not what the API describes.
        case malformedAnswer
    }

    public let code: Code
    /// The answer's status (0 when there was none).
    public let status: Int
    /// The server's problem, for refusals that carry one.
    public let problem: ProblemDetails?
    /// A sentence a person can act on.
    public let reason: String

    public var description: String { reason }

    /// The server refused: `detail` from its problem, or the start of the body.
    public static func refused(_ response: VouchResponse) -> Self {
        let problem = response.problem
        let detail = problem?.detail ?? String(response.text.prefix(500))
        return Self(code: .refused, status: response.status, problem: problem, reason: "\(detail) (HTTP \(response.status))")
    }

    public static func unreachable(_ reason: String) -> Self {
        Self(code: .unreachable, status: 0, problem: nil, reason: reason)
    }

    public static func malformedAnswer(status: Int, _ reason: String) -> Self {
        Self(code: .malformedAnswer, status: status, problem: nil, reason: reason)
    }
}
