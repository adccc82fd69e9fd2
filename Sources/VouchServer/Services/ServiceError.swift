import VouchKit

/// Why a feature service refuses an operation, in words a person can act on.
///
/// Services throw this; they know nothing of HTTP. The API edge maps each code to a status and an
/// RFC 9457 problem (`ServiceError+Problem.swift`), and a CLI or another front end may map it its
/// own way.
struct ServiceError: Error, Sendable, CustomStringConvertible {
    /// What kind of refusal it is. Compared with `==` against the static members.
    struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Backing: String, Hashable, Sendable {
            case invalidRequest = "invalid request"
            case unauthenticated
            case forbidden
            case notFound = "not found"
            case conflict
            case tooLarge = "too large"
            case unsupportedMediaType = "unsupported media type"
            case unprocessable
            case rateLimited = "rate limited"
        }

        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        var description: String { backing.rawValue }

        /// The request cannot be read: malformed, missing or contradictory members.
        static let invalidRequest = Code(.invalidRequest)
        /// The caller did not prove who it is (no credential, a wrong or stale one).
        static let unauthenticated = Code(.unauthenticated)
        /// The caller is known and may not do this.
        static let forbidden = Code(.forbidden)
        /// What the request names does not exist (or the caller may not learn that it does).
        static let notFound = Code(.notFound)
        /// The records' current state does not allow it.
        static let conflict = Code(.conflict)
        /// More bytes than the operation takes.
        static let tooLarge = Code(.tooLarge)
        /// The body is not in a format the operation reads.
        static let unsupportedMediaType = Code(.unsupportedMediaType)
        /// Well formed, and refused by the rules (a policy that does not compile, a key type a group refuses).
        static let unprocessable = Code(.unprocessable)
        /// Too many requests from one source.
        static let rateLimited = Code(.rateLimited)
    }

    let code: Code
    /// A sentence a person can act on.
    let detail: String
    /// Members a client may read besides the detail (`legalActions`, `stepUp`, a policy's `problems`).
    var members: [String: JSONValue] = [:]
    /// Seconds to wait before trying again (rate limiting).
    var retryAfter: Int?

    private init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    var description: String { "\(code): \(detail)" }

    static func invalidRequest(_ detail: String) -> Self { Self(.invalidRequest, detail) }
    static func unauthenticated(_ detail: String) -> Self { Self(.unauthenticated, detail) }
    static func forbidden(_ detail: String) -> Self { Self(.forbidden, detail) }
    static func notFound(_ detail: String) -> Self { Self(.notFound, detail) }
    static func conflict(_ detail: String) -> Self { Self(.conflict, detail) }
    static func tooLarge(_ detail: String) -> Self { Self(.tooLarge, detail) }
    static func unsupportedMediaType(_ detail: String) -> Self { Self(.unsupportedMediaType, detail) }
    static func unprocessable(_ detail: String) -> Self { Self(.unprocessable, detail) }
    static func rateLimited(retryAfter: Int) -> Self {
        var error = Self(.rateLimited, "too many requests from this address; retry after \(retryAfter) seconds")
        error.retryAfter = retryAfter
        return error
    }
}
