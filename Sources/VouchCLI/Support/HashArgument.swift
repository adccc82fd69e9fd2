import ArgumentParser
import Foundation
import VouchKit

/// Reads Merkle tree hashes given on the command line in hex or base64.
enum HashArgument {
    /// Parses one 32-byte hash: 64 hex digits, or base64 (standard or URL-safe, padding optional).
    ///
    /// - Throws: `ValidationError` naming the option when the text is not such a hash.
    static func parse(_ text: String, option: String) throws -> MerkleHash {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let bytes = hexBytes(text) ?? base64Bytes(text), let hash = try? MerkleHash(bytes: bytes) {
            return hash
        }
        throw ValidationError(
            "\(option) must be a 32-byte SHA-256 hash as 64 hex digits or base64, but \"\(text)\" is not."
        )
    }

    /// Parses a comma-separated list of hashes; an empty text is an empty list.
    ///
    /// - Throws: `ValidationError` naming the option and the position of the first bad hash.
    static func parseList(_ text: String, option: String) throws -> [MerkleHash] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        if items == [""] { return [] }
        return try items.enumerated().map { position, item in
            try parse(item, option: "\(option) entry \(position + 1)")
        }
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        text.utf8.count == 2 * MerkleHash.byteCount ? Hex.decode(text) : nil
    }

    private static func base64Bytes(_ text: String) -> [UInt8]? {
        var normalized = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while normalized.utf8.count % 4 != 0 { normalized += "=" }
        return Data(base64Encoded: normalized).map { Array($0) }
    }
}
