import Foundation
import Hummingbird

/// Reads JSON request bodies (at most the context's upload size) with errors a person can act on:
/// 413 past the limit, 400 naming the member that is missing or of the wrong type.
struct VouchRequestDecoder: RequestDecoder {
    func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        let buffer = try await request.bodyBytes(limit: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { throw ServiceError.invalidRequest("the request needs a JSON body") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw ServiceError.invalidRequest(Self.describe(error))
        } catch {
            throw ServiceError.invalidRequest("the body is not valid JSON")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.isEmpty ? "the body" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])) is required"
        case .typeMismatch(let type, let context): return "\(path(context.codingPath)) must be \(describe(type))"
        case .valueNotFound(let type, let context): return "\(path(context.codingPath)) must be \(describe(type)), not null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not valid JSON" : "\(path(context.codingPath)) is invalid: \(context.debugDescription)"
        @unknown default: return "the body does not have the expected shape"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Bool.Type: "true or false"
        default: "a \(type)".replacingOccurrences(of: "Array<", with: "list of ").replacingOccurrences(of: "Dictionary<", with: "object of ")
        }
    }
}

/// Writes answers as JSON with sorted keys, marked never to be cached.
struct VouchResponseEncoder: ResponseEncoder {
    func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Responses.json(bytes: Array(try encoder.encode(value)))
    }
}

extension Request {
    /// The body's bytes, at most `limit`; 413 with `tooLarge`, or a sentence naming the limit, beyond it.
    func bodyBytes(limit: Int, tooLarge: String? = nil) async throws -> ByteBuffer {
        do {
            var request = self
            return try await request.collectBody(upTo: limit)
        } catch {
            throw ServiceError.tooLarge(tooLarge ?? "the request body is larger than \(limit / 1024) KiB")
        }
    }

    /// Whether the request says it has a body (a non-zero length, or a content type).
    var hasBody: Bool {
        headers[.contentLength].map { $0 != "0" } ?? false || headers[.contentType] != nil
    }
}
