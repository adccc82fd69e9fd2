/// What an enrolled device signs to act as itself: to buy an access token, or to rotate its key.
/// A JWS of type `vouch-device+jwt` whose `kid` is the signing key's did:key verification method and
/// whose payload binds the server's single-use nonce to the device and the purpose, so that a proof
/// made for one purpose is refused for another.
public struct DeviceProof: Codable, Sendable, Hashable {
    /// The JOSE `typ` of a device proof.
    public static let mediaType = "vouch-device+jwt"

    public enum Purpose: String, Codable, Sendable, Hashable {
        /// `POST /v1/auth/token`.
        case authenticate
        /// `POST /v1/devices/self/rotate`: signed by the old key and by the new one.
        case rotate
    }

    public var nonce: String
    public var deviceId: String
    public var purpose: Purpose
    /// For rotation: the new key's JWK thumbprint (RFC 7638), so both signatures name the same key.
    public var newKeyThumbprint: String?

    public init(nonce: String, deviceId: String, purpose: Purpose, newKeyThumbprint: String? = nil) {
        self.nonce = nonce
        self.deviceId = deviceId
        self.purpose = purpose
        self.newKeyThumbprint = newKeyThumbprint
    }

    /// The proof signed by `key`, `kid` set to the key's did:key verification method.
    public func sign(with key: SigningKey) async throws -> String {
        try await JWS.sign(self, type: Self.mediaType, kid: DID(key: key.publicKey).didKeyVerificationMethod.description, key: key)
    }
}
