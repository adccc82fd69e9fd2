import Foundation
import HTTPTypes
import Hummingbird

enum Responses {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    /// JSON already serialized.
    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    static func bytes(_ bytes: [UInt8], contentType: String, cache: String = "no-cache") -> Response {
        Response(status: .ok, headers: [.contentType: contentType, .cacheControl: cache], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func text(_ text: String, contentType: String) -> Response {
        bytes(Array(text.utf8), contentType: contentType)
    }
}

/// The RFC 7240 `Prefer` request header.
enum Prefer {
    /// Whether the client asked for `return=minimal`.
    static func minimal(_ request: Request) -> Bool {
        request.headers[values: HTTPField.Name("Prefer")!].contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "return=minimal" }
        }
    }
}
