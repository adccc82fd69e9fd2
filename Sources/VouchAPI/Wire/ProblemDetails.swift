import Foundation
import VouchKit

/// An RFC 9457 problem, as the server answers every refusal: `application/problem+json`.
public struct ProblemDetails: Codable, Sendable {
    public var type: String?
    public var title: String?
    public var status: Int?
    /// What went wrong, for a person to act on.
    public var detail: String?
    /// For a lifecycle action refused in the device's state: the actions that state allows.
    public var legalActions: String?
    /// For a token refused until the device proves its firmware: `firmware-attestation`.
    public var stepUp: String?
    /// For a policy document refused: each problem with its line and column.
    public var problems: [JSONValue]?

    public init(
        type: String? = nil, title: String? = nil, status: Int? = nil, detail: String? = nil, legalActions: String? = nil, stepUp: String? = nil,
        problems: [JSONValue]? = nil
    ) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        self.legalActions = legalActions
        self.stepUp = stepUp
        self.problems = problems
    }

    /// The media type of a problem.
    public static let mediaType = "application/problem+json"
}
