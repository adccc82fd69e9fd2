import Foundation

/// A challenge a verifier gives a device: a random nonce for one audience, valid until `expiresAt`.
public struct Challenge: Codable, Sendable, Hashable {
    /// At least 128 random bits, base64url.
    public let nonce: String
    /// Who will verify the answer (the verifier's DID or URL).
    public let audience: String
    /// After this instant the nonce is refused.
    public let expiresAt: Date

    /// Creates a challenge.
    public init(nonce: String, audience: String, expiresAt: Date) {
        self.nonce = nonce
        self.audience = audience
        self.expiresAt = expiresAt
    }
}
