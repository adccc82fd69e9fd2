import Foundation

/// What a manufacturer-provisioned key signs to vouch for an enrollment: a labelled message over the
/// server's nonce, the enrollment group and the RFC 7638 thumbprint of the key the device enrolls
/// (its CSR's). Binding the key means one factory certificate cannot enroll other keys, and the
/// label keeps the signature from meaning anything in another protocol.
public enum FactoryAttestation {
    /// The label that opens every message.
    public static let label = "vouch-factory-attestation/v1"

    /// The bytes the factory key signs: `label \n nonce \n group \n thumbprint` (UTF-8).
    public static func message(nonce: String, group: String, keyThumbprint: String) -> [UInt8] {
        Array("\(label)\n\(nonce)\n\(group)\n\(keyThumbprint)".utf8)
    }

    /// The factory key's signature (JWS format: raw Ed25519, or r‖s for ECDSA), base64url, as the
    /// enrollment request's `attestation.signature` carries it.
    public static func sign(nonce: String, group: String, enrolling key: PublicKey, with factoryKey: SigningKey) throws -> String {
        Base64URL.encode(try factoryKey.signature(for: message(nonce: nonce, group: group, keyThumbprint: key.thumbprint)))
    }
}
