/// A verification method of a DID document (W3C DID Core §5.2): a public key, in one of the forms
/// that did:key and did:web documents use in practice.
public struct VerificationMethod: Codable, Sendable, Hashable {
    /// The method's DID URL (absolute, or relative such as `#key-1`).
    public var id: String
    /// `Multikey`, `JsonWebKey`, `JsonWebKey2020`, `Ed25519VerificationKey2018` or `Ed25519VerificationKey2020`.
    public var type: String
    /// The DID that controls the key.
    public var controller: String
    /// The key as a JWK.
    public var publicKeyJwk: JWK?
    /// The key as multibase (did:key form).
    public var publicKeyMultibase: String?
    /// The Ed25519 key as base58 (legacy 2018 suites).
    public var publicKeyBase58: String?

    /// Creates a verification method.
    public init(id: String, type: String, controller: String, publicKeyJwk: JWK? = nil, publicKeyMultibase: String? = nil, publicKeyBase58: String? = nil) {
        self.id = id
        self.type = type
        self.controller = controller
        self.publicKeyJwk = publicKeyJwk
        self.publicKeyMultibase = publicKeyMultibase
        self.publicKeyBase58 = publicKeyBase58
    }

    /// A `Multikey` method for `key`, the form did:key documents use.
    public init(id: String, controller: String, multikey key: PublicKey) {
        self.init(id: id, type: "Multikey", controller: controller, publicKeyMultibase: DIDKey.multibase(of: key))
    }

    /// A `JsonWebKey` method for `key`.
    public init(id: String, controller: String, jsonWebKey key: PublicKey) {
        var jwk = key.jwk
        jwk.kid = nil
        self.init(id: id, type: "JsonWebKey", controller: controller, publicKeyJwk: jwk)
    }

    /// The public key this method holds.
    public func publicKey() throws -> PublicKey {
        if let jwk = publicKeyJwk {
            return try PublicKey(jwk: jwk.publicJWK)
        }
        if let multibase = publicKeyMultibase {
            return try DIDKey.publicKey(multibase: multibase)
        }
        if let base58 = publicKeyBase58 {
            guard let raw = Base58.decode(base58) else { throw VouchKitError.malformedInput("publicKeyBase58 of \(id) is not base58") }
            if type.hasPrefix("Ed25519") { return try PublicKey(ed25519: raw) }
            if type.hasPrefix("P256") || type.hasPrefix("EcdsaSecp256r1") { return try PublicKey(p256: raw) }
        }
        throw VouchKitError.unsupported("verification method \(id) of type \(type) carries no key VouchKit can read")
    }
}
