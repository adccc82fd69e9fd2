import Crypto
import Foundation
import VouchKit

/// Identifiers, secrets and their digests.
enum Secrets {
    /// A random secret with a readable prefix: `vk_…` API keys, `ct_…` claim tokens.
    static func make(prefix: String) -> String {
        prefix + "_" + Base64URL.encode(randomBytes(32))
    }

    /// Lower-case hex SHA-256: how secrets and nonces are stored.
    static func digest(_ secret: String) -> String {
        Hex.encode(SHA256.hash(data: Array(secret.utf8)))
    }

    /// Whether `secret` hashes to `digest`, compared in constant time.
    static func matches(_ secret: String, digest stored: String) -> Bool {
        ConstantTime.equals(digest(secret), stored)
    }

    /// A time-ordered identifier: `prefix_` + 12 hex digits of milliseconds + 16 of randomness, so
    /// that ids sort in creation order (cursor pagination) and cannot be guessed.
    static func identifier(_ prefix: String, now: Date) -> String {
        let millis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        let time = String(millis, radix: 16)
        let padded = String(repeating: "0", count: max(0, 12 - time.count)) + time
        return prefix + "_" + padded + Hex.encode(randomBytes(8))
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        SecureRandom.bytes(count)
    }
}
