import Foundation

/// `POST /v1/devices/self/rotate`.
struct RotationRequest: Codable, Sendable {
    var nonce: String
    /// PKCS#10 CSR of the new key, PEM.
    var csr: String
    /// A `vouch-device+jwt` (purpose `rotate`) signed by the new key.
    var proof: String
    /// The same payload signed by the current key.
    var previousKeyProof: String
    /// A firmware measurement by the current key answering `nonce`: what a group that requires
    /// known-good firmware needs to issue.
    var measurement: String?
}

/// `POST /v1/devices/self/renew` (the body is optional).
struct RenewalRequest: Codable, Sendable {
    /// A nonce from `POST /v1/auth/challenge`, which `measurement` answers.
    var nonce: String?
    /// A firmware measurement answering `nonce`: what a group that requires known-good firmware
    /// needs to issue.
    var measurement: String?
}
