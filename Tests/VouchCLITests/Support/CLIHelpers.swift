import Foundation
import Testing

// Helpers the command tests share.

extension VouchProcess {
    /// Generates a key into `file` and returns its did:key, the last line of output.
    func generateKey(_ file: String, type: String = "ed25519", sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let outcome = try await run("keys", "generate", "--type", type, "--out", file)
        outcome.expectExit(0, sourceLocation: sourceLocation)
        return try #require(outcome.lastOutputLine, sourceLocation: sourceLocation)
    }

    /// Issues a `DeviceCredential` about `subject` signed with `key` and writes it to `file`.
    func issueCredential(
        key: String, subject: String, to file: String, extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let outcome = try await run(
            ["credential", "issue", "--key", key, "--subject", subject, "--type", "DeviceCredential", "--valid-for", "1d"] + extra)
        outcome.expectExit(0, sourceLocation: sourceLocation)
        try write(try #require(outcome.lastOutputLine, sourceLocation: sourceLocation) + "\n", to: file)
    }

    /// Expects `status-list check` to print `bit` for `index` of `file`.
    func expectEntry(_ index: Int, of file: String, is bit: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let outcome = try await run("status-list", "check", file, String(index))
        outcome.expectExit(0, sourceLocation: sourceLocation)
        #expect(outcome.standardOutput == bit + "\n", "entry \(index): \(outcome)", sourceLocation: sourceLocation)
    }
}

/// Looking inside compact JWS tokens, and forging altered ones.
enum JWSParts {
    static func header(_ token: String) throws -> [String: Any] {
        try object(try part(0, of: token))
    }

    static func payload(_ token: String) throws -> [String: Any] {
        try object(try part(1, of: token))
    }

    /// The token with its payload replaced and its signature kept.
    static func replacingPayload(of token: String, with payload: [String: Any]) throws -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        try #require(parts.count == 3)
        let encoded = Base64URLText.encode(try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]))
        return [String(parts[0]), encoded, String(parts[2])].joined(separator: ".")
    }

    private static func part(_ index: Int, of token: String) throws -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        try #require(parts.count == 3, "not a compact JWS: \(token)")
        return String(parts[index])
    }

    private static func object(_ segment: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Base64URLText.decode(segment)) as? [String: Any])
    }
}

/// Unpadded base64url (RFC 7515 §2).
enum Base64URLText {
    static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) throws -> Data {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        return try #require(Data(base64Encoded: base64), "not base64url: \(text)")
    }
}

/// Hex spellings of hashes given in base64.
enum Hex {
    /// The lowercase hex of the bytes that standard base64 `text` encodes.
    static func fromBase64(_ text: String) throws -> String {
        let data = try #require(Data(base64Encoded: text), "not base64: \(text)")
        return data.map { String(format: "%02x", $0) }.joined()
    }
}
