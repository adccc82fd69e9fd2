/// What a device signs at enrollment to prove it holds the key of its CSR: a JWS of type
/// `vouch-pop+jwt` whose `kid` is the key's did:key verification method and whose payload binds the
/// server's nonce to the enrollment group.
public struct PossessionProof: Codable, Sendable, Hashable {
    /// The JOSE `typ` of a proof.
    public static let mediaType = "vouch-pop+jwt"

    public var nonce: String
    public var group: String

    public init(nonce: String, group: String) {
        self.nonce = nonce
        self.group = group
    }

    /// The proof signed by `key`, `kid` set to the key's did:key verification method.
    public func sign(with key: SigningKey) async throws -> String {
        try await JWS.sign(self, type: Self.mediaType, kid: DID(key: key.publicKey).didKeyVerificationMethod.description, key: key)
    }
}
