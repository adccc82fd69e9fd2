import Foundation
import HTTPTypes
import Hummingbird
import VouchKit

/// A request the API refuses: mapped to an RFC 9457 problem with an actionable `detail`.
public struct APIError: Error, Sendable, HTTPResponseError {
    public let status: HTTPResponse.Status
    public let title: String
    public let detail: String
    /// Extra members of the problem object (such as `legalActions`).
    public var extensions: [String: String] = [:]
    /// Extra members that are not strings (such as a policy's `problems`).
    public var members: [String: JSONValue] = [:]
    /// Seconds to wait before retrying, for 429 and 503.
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ detail: String, title: String? = nil) {
        self.status = status
        self.detail = detail
        self.title = title ?? status.reasonPhrase
    }

    public static func badRequest(_ detail: String) -> Self { Self(.badRequest, detail) }
    public static func unauthorized(_ detail: String) -> Self { Self(.unauthorized, detail) }
    public static func forbidden(_ detail: String) -> Self { Self(.forbidden, detail) }
    public static func notFound(_ detail: String) -> Self { Self(.notFound, detail) }
    public static func conflict(_ detail: String) -> Self { Self(.conflict, detail) }
    public static func unprocessable(_ detail: String) -> Self { Self(.unprocessableContent, detail) }
    public static func tooManyRequests(retryAfter: Int) -> Self {
        var error = Self(.tooManyRequests, "too many requests from this address; retry after \(retryAfter) seconds")
        error.retryAfter = retryAfter
        return error
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body = extensions.mapValues(JSONValue.string).merging(members) { _, member in member }
        body["type"] = "about:blank"
        body["title"] = .string(title)
        body["detail"] = .string(detail)
        body["instance"] = .string(request.uri.path)
        body["status"] = .number(Double(status.code))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(JSONValue.object(body)))))
    }
}
