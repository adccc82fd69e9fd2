/// A JWS signature algorithm VouchKit signs or verifies with (RFC 7518, RFC 8037).
public enum JWSAlgorithm: String, Sendable, Hashable, Codable, CaseIterable {
    /// Ed25519 (RFC 8037); the default for devices.
    case edDSA = "EdDSA"
    /// ECDSA over P-256 with SHA-256.
    case es256 = "ES256"
    /// ECDSA over P-384 with SHA-384 (verification of third-party material only).
    case es384 = "ES384"
    /// ECDSA over P-521 with SHA-512 (verification of third-party material only).
    case es512 = "ES512"
}
