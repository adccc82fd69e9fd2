import Foundation
import Hummingbird
import NIOCore

/// A form the console's pages post (`application/x-www-form-urlencoded`), read into fields.
struct ConsoleForm: Sendable {
    private(set) var fields: [String: String] = [:]

    /// The largest form read: a policy is the biggest thing posted.
    static let limit = 256 * 1024

    init(fields: [String: String]) {
        self.fields = fields
    }

    /// Reads the request's body, refusing another content type, a body over `limit`, text that is
    /// not UTF-8 and a field given twice.
    init(_ request: Request) async throws {
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/x-www-form-urlencoded" else {
            throw ServiceError.unsupportedMediaType("the console's forms are sent as application/x-www-form-urlencoded")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.limit)
        } catch {
            throw ServiceError.tooLarge("a console form is at most \(Self.limit / 1024) KiB")
        }
        guard let text = String(validating: body.readableBytesView, as: UTF8.self) else {
            throw ServiceError.invalidRequest("the form is not UTF-8")
        }
        try self.init(parsing: text)
    }

    init(parsing text: String) throws {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), let value = Self.decode(parts.count > 1 ? parts[1] : "") else {
                throw ServiceError.invalidRequest("the form is not URL-encoded UTF-8")
            }
            guard fields[name] == nil else { throw ServiceError.invalidRequest("the form sends \(name.prefix(32)) twice") }
            fields[name] = value
        }
    }

    subscript(_ name: String) -> String? { fields[name] }

    /// The field, trimmed, or nil when it is missing or empty.
    func text(_ name: String) -> String? {
        guard let value = fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    private static func decode(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
