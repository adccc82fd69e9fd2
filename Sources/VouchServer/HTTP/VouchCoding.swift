import Foundation
import Hummingbird
import VouchAPI
import VouchKit

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
        if let direct = value as? any DirectJSON {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(8192)
            try direct.writeJSON(into: &bytes)
            return Responses.json(bytes: bytes)
        }
        return Responses.json(bytes: try Self.bytes(value))
    }

    /// `value` as the answers write it: sorted keys, slashes as they are.
    static func bytes(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }
}

/// An answer that writes its own JSON, as `VouchResponseEncoder` would (sorted keys, members that
/// are nil left out), without `JSONEncoder`'s boxing of every value: for answers made often whose
/// bulk is long strings (an enrollment's certificates and credentials).
protocol DirectJSON: Encodable {
    func writeJSON(into output: inout [UInt8]) throws
}

extension EnrollmentBundle: DirectJSON {
    func writeJSON(into output: inout [UInt8]) throws {
        var first = true
        func key(_ name: String) {
            output.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            JSONValue.writeCanonical(string: name, into: &output)
            output.append(UInt8(ascii: ":"))
        }
        func string(_ name: String, _ value: String?) {
            guard let value else { return }
            key(name)
            JSONValue.writeCanonical(string: value, into: &output)
        }
        // In the order of the keys' UTF-8 bytes, as `.sortedKeys` writes them.
        string("certificate", certificate)
        string("chain", chain)
        string("deviceId", deviceId)
        string("did", did)
        if let firmware {
            key("firmware")
            output.append(contentsOf: try VouchResponseEncoder.bytes(firmware))
        }
        string("identityCredential", identityCredential)
        if let log {
            key("log")
            log.writeJSON(into: &output)
        }
        key("roleCredentials")
        output.append(UInt8(ascii: "["))
        for (index, credential) in roleCredentials.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            JSONValue.writeCanonical(string: credential, into: &output)
        }
        output.append(UInt8(ascii: "]"))
        string("state", state)
        string("trustBundle", trustBundle)
        output.append(UInt8(ascii: "}"))
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

extension IssuanceLog {
    func writeJSON(into output: inout [UInt8]) {
        output.append(contentsOf: "{\"certificateIndex\":\(certificateIndex),\"credentialIndex\":\(credentialIndex)".utf8)
        if let receipts {
            output.append(contentsOf: ",\"receipts\":[".utf8)
            for (index, receipt) in receipts.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                receipt.writeJSON(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        }
        output.append(UInt8(ascii: "}"))
    }
}

extension LogReceipt {
    func writeJSON(into output: inout [UInt8]) {
        output.append(contentsOf: "{\"checkpoint\":".utf8)
        JSONValue.writeCanonical(string: checkpoint, into: &output)
        output.append(contentsOf: ",\"entry\":".utf8)
        JSONValue.writeCanonical(string: entry, into: &output)
        output.append(contentsOf: ",\"inclusionProof\":[".utf8)
        for (index, hash) in inclusionProof.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            JSONValue.writeCanonical(string: hash, into: &output)
        }
        output.append(contentsOf: "],\"index\":\(index),\"treeSize\":\(treeSize)}".utf8)
    }
}
