import Crypto
import Foundation

/// A witness's Ed25519 key for checkpoint cosignatures (https://c2sp.org/tlog-cosignature,
/// `cosignature/v1`): the witness states that, at a given time, the checkpoint was consistent with
/// every other checkpoint of that log it had seen.
///
/// The cosignature is a note signature line whose key ID is the first four bytes of
/// `SHA-256(name || 0x0A || 0x04 || public key)` and whose signature is an 8-byte big-endian
/// timestamp followed by an Ed25519 signature over
///
/// ```
/// cosignature/v1
/// time <timestamp>
/// <checkpoint text>
/// ```
///
/// Key texts follow signed-note conventions with algorithm byte 0x04: the verifier key is
/// `<name>+<hex key ID>+<base64(0x04 || public key)>`, the signer key `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x04 || seed)>`.
public struct CosignatureVerifier: Hashable, Sendable, CustomStringConvertible {
    /// The witness's key name.
    public let name: String
    public let keyID: UInt32
    let publicKeyBytes: [UInt8]

    static let algorithm: UInt8 = 0x04

    init(name: String, publicKey: Curve25519.Signing.PublicKey) throws(VouchKitError) {
        try NoteVerifier.checkKeyName(name)
        self.name = name
        self.publicKeyBytes = Array(publicKey.rawRepresentation)
        self.keyID = NoteVerifier.keyID(name: name, publicKey: publicKey, algorithm: Self.algorithm)
    }

    /// Parses a verifier key `<name>+<hex key ID>+<base64(0x04 || public key)>`.
    ///
    /// - Throws: ``VouchKitError`` when the text is malformed, the algorithm is not cosignature/v1,
    ///   or the key ID does not match the key.
    public init(verifierKey: String) throws(VouchKitError) {
        let parts = verifierKey.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw .malformedInput("a witness key has the form <name>+<8 hex digit key ID>+<base64 key>")
        }
        let name = String(parts[0])
        let key = try NoteVerifier.decodeKey(id: parts[1], key: parts[2], kind: "public", algorithm: Self.algorithm)
        let publicKey: Curve25519.Signing.PublicKey
        do {
            publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: key.material)
        } catch {
            throw .invalidKey("the witness key \(name) does not hold a usable Ed25519 public key")
        }
        try self.init(name: name, publicKey: publicKey)
        guard keyID == key.id else {
            throw .invalidKey("the key ID \(NoteVerifier.hex(key.id)) of the witness key \(name) does not match its public key")
        }
    }

    /// The verifier key text, for the log's operator to configure.
    public var verifierKey: String {
        "\(name)+\(NoteVerifier.hex(keyID))+\(NoteBase64.encode([Self.algorithm] + publicKeyBytes))"
    }

    public var description: String { verifierKey }

    /// The time (seconds since 1970) at which this witness cosigned `note`, when the note carries a
    /// valid cosignature by it; nil otherwise.
    public func cosignatureTime(of note: SignedNote) -> UInt64? {
        cosignature(in: note).map { $0.time }
    }

    /// This witness's valid cosignature in `note` and its time; nil when there is none. Lines of
    /// this key that do not verify are ignored.
    public func cosignature(in note: SignedNote) -> (signature: SignedNote.Signature, time: UInt64)? {
        guard let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKeyBytes) else { return nil }
        for signature in note.signatures where signature.keyName == name && signature.keyID == keyID {
            guard signature.signature.count == 72 else { continue }
            let time = signature.signature.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            // The spec's timestamps are at most 2^63 - 1.
            guard time <= UInt64(Int64.max) else { continue }
            if publicKey.isValidSignature(signature.signature.dropFirst(8), for: Self.message(text: note.text, time: time)) {
                return (signature, time)
            }
        }
        return nil
    }

    /// The key as it is named in a log's witness list: `<name>+<hex key ID>`.
    public var label: String { "\(name)+\(NoteVerifier.hex(keyID))" }

    /// The signed message of cosignature/v1.
    static func message(text: String, time: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(time)\n".utf8) + Array(text.utf8)
    }
}

/// The signing half of ``CosignatureVerifier``: what a witness holds.
public struct CosignatureSigner: Sendable {
    public let verifier: CosignatureVerifier
    private let privateKey: Curve25519.Signing.PrivateKey

    public init(name: String, privateKey: Curve25519.Signing.PrivateKey) throws(VouchKitError) {
        self.privateKey = privateKey
        self.verifier = try CosignatureVerifier(name: name, publicKey: privateKey.publicKey)
    }

    /// Parses a signer key `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x04 || seed)>`.
    public init(signerKey: String) throws(VouchKitError) {
        let parts = signerKey.split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY" else {
            throw .malformedInput("a witness signer key has the form PRIVATE+KEY+<name>+<8 hex digit key ID>+<base64 seed>")
        }
        let key = try NoteVerifier.decodeKey(id: parts[3], key: parts[4], kind: "private", algorithm: CosignatureVerifier.algorithm)
        let privateKey: Curve25519.Signing.PrivateKey
        do {
            privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: key.material)
        } catch {
            throw .invalidKey("the witness signer key \(parts[2]) does not hold a usable Ed25519 seed")
        }
        try self.init(name: String(parts[2]), privateKey: privateKey)
        guard verifier.keyID == key.id else {
            throw .invalidKey("the key ID \(NoteVerifier.hex(key.id)) of the witness signer key \(parts[2]) does not match its key")
        }
    }

    /// A new random witness key named `name`.
    public static func generate(name: String) throws(VouchKitError) -> CosignatureSigner {
        try CosignatureSigner(name: name, privateKey: Curve25519.Signing.PrivateKey())
    }

    /// The secret signer key text.
    public var signerKey: String {
        "PRIVATE+KEY+\(verifier.name)+\(NoteVerifier.hex(verifier.keyID))+\(NoteBase64.encode([CosignatureVerifier.algorithm] + privateKey.rawRepresentation))"
    }

    /// `note` with this witness's cosignature at `time` added (replacing an earlier one of this key).
    public func cosign(_ note: SignedNote, time: UInt64) throws(VouchKitError) -> SignedNote {
        let signature: Data
        do {
            signature = try privateKey.signature(for: CosignatureVerifier.message(text: note.text, time: time))
        } catch {
            throw .cryptographicFailure("cosigning with witness key \(verifier.name) failed: \(error)")
        }
        var raw: [UInt8] = []
        withUnsafeBytes(of: time.bigEndian) { raw.append(contentsOf: $0) }
        raw.append(contentsOf: signature)
        var signatures = note.signatures.filter { $0.keyName != verifier.name || $0.keyID != verifier.keyID }
        signatures.append(SignedNote.Signature(keyName: verifier.name, keyID: verifier.keyID, signature: raw))
        return try SignedNote(text: note.text, signatures: signatures)
    }
}
