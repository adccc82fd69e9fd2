import Crypto

/// Random bytes for identifiers, serial numbers, nonces and secrets, from BoringSSL's CSPRNG (seeded
/// by the kernel, fork-safe) in one call. `UInt8.random(using: SystemRandomNumberGenerator)` asks the
/// kernel for eight bytes per byte it returns: twenty system calls for a certificate serial number.
package enum SecureRandom {
    /// `count` random bytes.
    package static func bytes(_ count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        return SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }
}
