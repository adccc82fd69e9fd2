/// An issuer a trust bundle vouches for: its id (a DID or an issuer URL) and, for issuers whose
/// keys cannot be derived offline (did:web, URLs), its keys with their `kid`s.
public struct TrustedIssuer: Codable, Sendable, Hashable {
    /// The issuer id as credentials name it in `issuer`.
    public var id: String
    /// Keys, each with `kid` set to the value the issuer puts in JWS headers.
    public var keys: [JWK]

    /// Creates an entry.
    public init(id: String, keys: [JWK] = []) {
        self.id = id
        self.keys = keys.map(\.publicJWK)
    }
}
