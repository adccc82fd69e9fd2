import Foundation
import HTTPTypes
import Hummingbird
import VouchKit

/// An RFC 9457 problem: what every refusal and failure of the API answers with.
struct Problem: Error, Sendable, HTTPResponseError {
    let status: HTTPResponse.Status
    let detail: String
    /// Members besides the standard ones (such as `legalActions`).
    var members: [String: JSONValue] = [:]
    /// Seconds to wait before retrying, for 429 and 503.
    var retryAfter: Int?

    init(_ status: HTTPResponse.Status, _ detail: String) {
        self.status = status
        self.detail = detail
    }

    /// The problem a service's refusal is at the API edge.
    init(_ error: ServiceError) {
        self.init(Self.status(of: error.code), error.detail)
        members = error.members
        retryAfter = error.retryAfter
    }

    static func status(of code: ServiceError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalidRequest: .badRequest
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .tooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .unprocessable: .unprocessableContent
        case .rateLimited: .tooManyRequests
        default: .badRequest
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var body = members
        body["type"] = "about:blank"
        body["title"] = .string(status.reasonPhrase)
        body["detail"] = .string(detail)
        body["instance"] = .string(request.uri.path)
        body["status"] = .number(Double(status.code))
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(JSONValue.object(body)))))
    }
}
