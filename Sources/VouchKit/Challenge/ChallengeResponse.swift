import Foundation

/// A device's answer to a ``Challenge``: a JWS (`vouch-challenge+jwt`) over the nonce, the audience,
/// the device's DID and the time, signed with the device key.
public enum ChallengeResponse {
    struct Claims: Codable, Sendable {
        let iss: String
        let nonce: String
        let aud: String
        let iat: NumericDate
    }

    /// Signs the answer to `challenge` as `device` (defaults to the did:key of `key`).
    public static func sign(_ challenge: Challenge, key: SigningKey, device: DID? = nil, keyID: String? = nil, now: Date = Date()) async throws -> String {
        let did = device ?? DID(key: key.publicKey)
        guard let kid = keyID ?? (device == nil ? did.didKeyVerificationMethod.description : nil) else {
            throw VouchKitError.malformedInput("a device DID that is not the key's did:key needs a keyID")
        }
        let claims = Claims(iss: did.description, nonce: challenge.nonce, aud: challenge.audience, iat: NumericDate(Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))))
        return try await JWS.sign(claims, type: MediaType.challengeResponse, kid: kid, key: key)
    }
}
