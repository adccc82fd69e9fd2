import Crypto
import Foundation
import VouchKit

/// Single-use nonces that cost nothing until they are spent.
///
/// A nonce carries its own expiry and a MAC under the server's nonce key over that expiry, its
/// purpose and 16 random bytes, so issuing one writes nothing: asking for nonces cannot fill the
/// database, and the nonce endpoint never waits for the writer. What makes a nonce single-use is
/// its spending: the change it authorizes inserts its digest into `spent_nonces`, whose primary key
/// refuses a second spending, in the same transaction. Spent digests are kept until the nonce would
/// have expired, then purged.
///
/// Layout (base64url, 76 characters): version (1 byte) ‖ expiry, Unix seconds (8 bytes, big-endian)
/// ‖ random (16 bytes) ‖ HMAC-SHA256(key, purpose ‖ 0x00 ‖ the bytes before it) (32 bytes).
struct NonceMinter: Sendable {
    private let key: SymmetricKey
    private static let version: UInt8 = 1
    private static let length = 1 + 8 + 16 + 32

    /// The nonce key: 32 random bytes, `DATA_DIR/keys/nonce.key`. Losing it only voids the nonces
    /// outstanding (each lives minutes), so a data directory without one gets a new one.
    static let keyName = "nonce.key"

    init(key: SymmetricKey) {
        self.key = key
    }

    /// A new nonce for `purpose`, valid until `expiresAt` (Unix seconds).
    func mint(purpose: String, expiresAt: Int) -> String {
        var body: [UInt8] = [Self.version]
        withUnsafeBytes(of: UInt64(max(0, expiresAt)).bigEndian) { body.append(contentsOf: $0) }
        body.append(contentsOf: Secrets.randomBytes(16))
        return Base64URL.encode(body + tag(body, purpose: purpose))
    }

    /// The expiry of `nonce` when this server minted it for `purpose` and it has not expired at
    /// `now`; nil for anything else (altered, forged, another purpose, expired, not a nonce).
    func expiry(of nonce: String, purpose: String, now: Int) -> Int? {
        guard nonce.utf8.count <= 128, let bytes = Base64URL.decode(nonce), bytes.count == Self.length, bytes[0] == Self.version else {
            return nil
        }
        let body = Array(bytes[0..<25])
        guard ConstantTime.equals(tag(body, purpose: purpose), Array(bytes[25...])) else { return nil }
        let expiresAt = Int(body[1..<9].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        return expiresAt > now ? expiresAt : nil
    }

    private func tag(_ body: [UInt8], purpose: String) -> [UInt8] {
        var authenticated = Array(purpose.utf8)
        authenticated.append(0)
        authenticated.append(contentsOf: body)
        return Array(HMAC<SHA256>.authenticationCode(for: authenticated, using: key))
    }
}
