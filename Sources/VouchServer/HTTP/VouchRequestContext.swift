import Foundation
import Hummingbird
import NIOCore
import VouchCore
import VouchKit
import VouchStore

/// The request context: the caller's address and, once authenticated, who is calling.
struct VouchRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// The admin API key, when the request carried one.
    var apiKey: APIKeyRecord?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// Bodies above 64 KiB are refused with 413: nothing the API takes is larger.
    var maxUploadSize: Int { 64 * 1024 }

    var remoteAddress: SocketAddress? { channel.remoteAddress }

    /// The peer's address, for policy conditions and monitoring.
    var sourceAddress: IPAddress? { remoteAddress?.ipAddress.flatMap(IPAddress.init) }

    /// The source address used for rate limiting.
    var sourceKey: String { remoteAddress?.ipAddress ?? "unknown" }

    /// Requires an API key with at least `scope`.
    func require(_ scope: APIScope) throws -> APIKeyRecord {
        guard let key = apiKey else {
            throw ServiceError.unauthenticated("send an API key as Authorization: Bearer vk_…")
        }
        guard key.scope >= scope else {
            throw ServiceError.forbidden("this API key has scope \(key.scope.rawValue); this needs \(scope.rawValue)")
        }
        return key
    }

    /// Who did it, for events: `apikey:ID`.
    var actor: String { apiKey.map { "apikey:\($0.id)" } ?? "anonymous" }
}

extension Request {
    /// The body's bytes, at most `limit` (the context's upload size by default); 413 with
    /// `tooLarge`, or a sentence naming the limit, beyond it.
    func bodyBytes(context: VouchRequestContext, limit: Int? = nil, tooLarge: String? = nil) async throws -> ByteBuffer {
        let limit = limit ?? context.maxUploadSize
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

    /// Decodes a JSON body of at most the context's upload size, with errors a person can act on.
    func decodeJSON<T: Decodable>(_ type: T.Type, context: VouchRequestContext) async throws -> T {
        let buffer = try await bodyBytes(context: context)
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
