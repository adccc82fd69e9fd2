import Crypto
import Foundation

/// A trusted Ed25519 key for checking signed notes (https://c2sp.org/signed-note).
///
/// Its text form, the *verifier key*, is `<name>+<key ID as 8 hex digits>+<base64(0x01 || public key)>`,
/// where the key ID is the first four bytes of `SHA-256(name || 0x0A || 0x01 || public key)`.
public struct NoteVerifier: Sendable {
    /// The key name, as it appears in signature lines.
    public let name: String

    /// The 32-bit key ID that, with ``name``, picks this key out of a note's signatures.
    public let keyID: UInt32

    /// The Ed25519 public key.
    public let publicKey: Curve25519.Signing.PublicKey

    /// Creates a verifier for an Ed25519 public key under a key name.
    ///
    /// - Throws: ``VouchKitError/malformedInput(_:)`` when the name is empty or contains
    ///   a plus sign, a space or a control character.
    public init(name: String, publicKey: Curve25519.Signing.PublicKey) throws(VouchKitError) {
        try Self.checkKeyName(name)
        self.name = name
        self.publicKey = publicKey
        self.keyID = Self.keyID(name: name, publicKey: publicKey)
    }

    /// Parses a verifier key `<name>+<hex key ID>+<base64(0x01 || public key)>`.
    ///
    /// - Throws: ``VouchKitError/malformedInput(_:)`` for a malformed text or name,
    ///   ``VouchKitError/unsupported(_:)`` for an algorithm other than Ed25519, and
    ///   ``VouchKitError/invalidKey(_:)`` for a wrong key length or a key ID that does not match the key.
    public init(verifierKey: String) throws(VouchKitError) {
        let parts = verifierKey.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw .malformedInput("a note verifier key has the form <name>+<8 hex digit key ID>+<base64 key>")
        }
        let name = String(parts[0])
        try Self.checkKeyName(name)
        let key = try Self.decodeKey(id: parts[1], key: parts[2], kind: "public")
        let publicKey: Curve25519.Signing.PublicKey
        do {
            publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: key.material)
        } catch {
            throw .invalidKey("the note verifier key \(name) does not hold a usable Ed25519 public key")
        }
        try self.init(name: name, publicKey: publicKey)
        guard keyID == key.id else {
            throw .invalidKey(
                "the key ID \(Self.hex(key.id)) of the note verifier key \(name) does not match its public key (\(Self.hex(keyID)))"
            )
        }
    }

    /// The verifier key text: `<name>+<hex key ID>+<base64(0x01 || public key)>`.
    public var verifierKey: String {
        "\(name)+\(Self.hex(keyID))+\(NoteBase64.encode([Self.ed25519Algorithm] + publicKey.rawRepresentation))"
    }

    /// Whether `signature` is a valid Ed25519 signature by this key over the note text.
    func isValidSignature(_ signature: [UInt8], forText text: String) -> Bool {
        publicKey.isValidSignature(signature, for: Array(text.utf8))
    }
}

extension NoteVerifier: Hashable {
    /// Whether two verifiers have the same name, key ID and public key.
    public static func == (lhs: NoteVerifier, rhs: NoteVerifier) -> Bool {
        lhs.name == rhs.name && lhs.keyID == rhs.keyID
            && lhs.publicKey.rawRepresentation == rhs.publicKey.rawRepresentation
    }

    /// Feeds the name, key ID and public key to `hasher`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(keyID)
        hasher.combine(publicKey.rawRepresentation)
    }
}

extension NoteVerifier: CustomStringConvertible {
    /// The verifier key text.
    public var description: String { verifierKey }
}

extension NoteVerifier {
    /// The signature type byte for Ed25519 in signed notes.
    static let ed25519Algorithm: UInt8 = 0x01

    /// The key ID: the first four bytes, big-endian, of `SHA-256(name || 0x0A || algorithm || public key)`
    /// (algorithm 0x01 for Ed25519 note signatures, 0x04 for cosignature/v1).
    static func keyID(name: String, publicKey: Curve25519.Signing.PublicKey, algorithm: UInt8 = ed25519Algorithm) -> UInt32 {
        var hasher = SHA256()
        hasher.update(data: Array(name.utf8))
        hasher.update(data: [0x0A, algorithm])
        hasher.update(data: publicKey.rawRepresentation)
        return hasher.finalize().withUnsafeBytes { raw in
            raw.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
    }

    /// Whether a key name is usable: non-empty, with no plus sign, Unicode space or control character.
    static func isValidKeyName(_ name: some StringProtocol) -> Bool {
        !name.isEmpty
            && !name.unicodeScalars.contains { $0 == "+" || $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }
    }

    /// Throws unless ``isValidKeyName(_:)`` accepts `name`.
    static func checkKeyName(_ name: String) throws(VouchKitError) {
        guard isValidKeyName(name) else {
            throw .malformedInput(
                "the note key name \"\(name)\" must be non-empty and contain no plus sign, space or control character"
            )
        }
    }

    /// The key ID as eight lowercase hexadecimal digits.
    static func hex(_ keyID: UInt32) -> String {
        let digits = String(keyID, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// Decodes the `<hex key ID>+<base64(0x01 || key material)>` tail shared by verifier and signer keys.
    static func decodeKey(
        id idText: Substring,
        key keyText: Substring,
        kind: String,
        algorithm expected: UInt8 = ed25519Algorithm
    ) throws(VouchKitError) -> (id: UInt32, material: [UInt8]) {
        guard idText.utf8.count == 8, idText.allSatisfy(\.isHexDigit), let id = UInt32(idText, radix: 16) else {
            throw .malformedInput("a note key ID is 8 hexadecimal digits, not \"\(idText)\"")
        }
        guard let bytes = NoteBase64.decode(keyText), let algorithm = bytes.first else {
            throw .malformedInput("a note key ends in standard base64 with padding")
        }
        guard algorithm == expected else {
            throw .unsupported(
                expected == ed25519Algorithm
                    ? "note key algorithm \(algorithm) is not supported; only Ed25519 (1) is"
                    : "a witness cosignature key has algorithm \(expected) (cosignature/v1), not \(algorithm)"
            )
        }
        guard bytes.count == 33 else {
            throw .invalidKey("an Ed25519 \(kind) note key is 32 bytes, not \(bytes.count - 1)")
        }
        return (id, Array(bytes.dropFirst()))
    }
}
