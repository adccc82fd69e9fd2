/// A JWS signature algorithm VouchKit signs or verifies with (RFC 7518, RFC 8037, RFC 9864).
public enum JWSAlgorithm: String, Sendable, Hashable, Codable, CaseIterable {
    /// Ed25519 under the polymorphic name of RFC 8037; the default for devices, and what keys say.
    case edDSA = "EdDSA"
    /// Ed25519 under its fully-specified name (RFC 9864), accepted wherever `EdDSA` is, and
    /// written when a signer asks for it.
    case ed25519 = "Ed25519"
    /// ECDSA over P-256 with SHA-256.
    case es256 = "ES256"
    /// ECDSA over P-384 with SHA-384 (verification of third-party material only).
    case es384 = "ES384"
    /// ECDSA over P-521 with SHA-512 (verification of third-party material only).
    case es512 = "ES512"

    /// Whether a JWS whose header names this algorithm may be verified with a key of `keyAlgorithm`
    /// (the algorithm a ``PublicKey`` reports). `Ed25519` and `EdDSA` both name Ed25519 keys.
    public func verifies(with keyAlgorithm: JWSAlgorithm) -> Bool {
        self == keyAlgorithm || (self == .ed25519 && keyAlgorithm == .edDSA) || (self == .edDSA && keyAlgorithm == .ed25519)
    }

    /// Whether a key of this algorithm may sign under the name `name`.
    func signs(as name: JWSAlgorithm) -> Bool { name.verifies(with: self) }
}
