import Crypto
import Foundation

/// An Ed25519 key that signs notes (https://c2sp.org/signed-note).
///
/// Its text form, the *signer key*, is `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>`.
/// Anyone holding it can sign as this key: keep it secret, and hand out ``verifier`` instead.
public struct NoteSigner: Sendable {
    /// The key name, as it appears in signature lines.
    public let name: String

    private let privateKey: Curve25519.Signing.PrivateKey

    /// The matching verifier, whose ``NoteVerifier/verifierKey`` is safe to publish.
    public let verifier: NoteVerifier

    /// Creates a signer for an Ed25519 private key under a key name.
    ///
    /// - Throws: ``VouchKitError/malformedInput(_:)`` when the name is empty or contains
    ///   a plus sign, a space or a control character.
    public init(name: String, privateKey: Curve25519.Signing.PrivateKey) throws(VouchKitError) {
        self.name = name
        self.privateKey = privateKey
        self.verifier = try NoteVerifier(name: name, publicKey: privateKey.publicKey)
    }

    /// Parses a signer key `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>`.
    ///
    /// - Throws: ``VouchKitError/malformedInput(_:)`` for a malformed text or name,
    ///   ``VouchKitError/unsupported(_:)`` for an algorithm other than Ed25519, and
    ///   ``VouchKitError/invalidKey(_:)`` for a wrong seed length or a key ID that does not match the key.
    public init(signerKey: String) throws(VouchKitError) {
        let parts = signerKey.split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY" else {
            throw .malformedInput(
                "a note signer key has the form PRIVATE+KEY+<name>+<8 hex digit key ID>+<base64 seed>"
            )
        }
        let name = String(parts[2])
        try NoteVerifier.checkKeyName(name)
        let key = try NoteVerifier.decodeKey(id: parts[3], key: parts[4], kind: "private")
        let privateKey: Curve25519.Signing.PrivateKey
        do {
            privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: key.material)
        } catch {
            throw .invalidKey("the note signer key \(name) does not hold a usable Ed25519 seed")
        }
        try self.init(name: name, privateKey: privateKey)
        guard keyID == key.id else {
            throw .invalidKey(
                "the key ID \(NoteVerifier.hex(key.id)) of the note signer key \(name) does not match its key (\(NoteVerifier.hex(keyID)))"
            )
        }
    }

    /// Generates a new random Ed25519 signer under a key name.
    ///
    /// Store ``signerKey`` secretly and publish ``verifierKey``.
    /// - Throws: ``VouchKitError/malformedInput(_:)`` for an unusable key name.
    public static func generate(name: String) throws(VouchKitError) -> NoteSigner {
        try NoteSigner(name: name, privateKey: Curve25519.Signing.PrivateKey())
    }

    /// The 32-bit key ID, the same as the verifier's.
    public var keyID: UInt32 { verifier.keyID }

    /// The secret signer key text: `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>`.
    public var signerKey: String {
        let material = [NoteVerifier.ed25519Algorithm] + privateKey.rawRepresentation
        return "PRIVATE+KEY+\(name)+\(NoteVerifier.hex(keyID))+\(NoteBase64.encode(material))"
    }

    /// The public verifier key text, to give to those who check this signer's notes.
    public var verifierKey: String { verifier.verifierKey }

    /// Signs a note text, which must end in a newline.
    ///
    /// - Throws: ``VouchKitError/malformedInput(_:)`` when the text does not end in a newline or
    ///   holds a control character other than newline, and ``VouchKitError/cryptographicFailure(_:)``
    ///   when signing fails.
    public func sign(_ text: String) throws(VouchKitError) -> SignedNote {
        try cosign(SignedNote(text: text))
    }

    /// Adds this signer's signature to a note, replacing an earlier signature by the same key.
    ///
    /// - Throws: ``VouchKitError/cryptographicFailure(_:)`` when signing fails.
    public func cosign(_ note: SignedNote) throws(VouchKitError) -> SignedNote {
        let signature: Data
        do {
            signature = try privateKey.signature(for: Array(note.text.utf8))
        } catch {
            throw .cryptographicFailure("signing the note with key \(name) failed: \(error)")
        }
        var signatures = note.signatures.filter { $0.keyName != name || $0.keyID != keyID }
        signatures.append(SignedNote.Signature(keyName: name, keyID: keyID, signature: Array(signature)))
        return try SignedNote(text: note.text, signatures: signatures)
    }
}
