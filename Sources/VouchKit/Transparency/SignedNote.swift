/// A signed note (https://c2sp.org/signed-note): a text and the signatures over it.
///
/// The text form is the note text, ending in a newline, then a blank line, then one line per
/// signature: an em dash (U+2014), a space, the key name, a space, and
/// `base64(4-byte big-endian key ID || signature)`, then a newline.
///
/// Parsing checks only the structure. The text must not be trusted until ``verify(using:)``
/// accepts it.
public struct SignedNote: Hashable, Sendable {
    /// One signature line of a note.
    public struct Signature: Hashable, Sendable {
        /// The name of the key that made the signature.
        public let keyName: String

        /// The 32-bit ID of the key that made the signature.
        public let keyID: UInt32

        /// The signature bytes, without the key ID.
        public let signature: [UInt8]

        /// Creates a signature line's content.
        public init(keyName: String, keyID: UInt32, signature: [UInt8]) {
            self.keyName = keyName
            self.keyID = keyID
            self.signature = signature
        }

        /// The signature line as it follows a note's text: `— <name> <base64(key ID || signature)>`
        /// and a newline.
        public var line: String {
            var raw = [UInt8]()
            raw.reserveCapacity(4 + signature.count)
            withUnsafeBytes(of: keyID.bigEndian) { raw.append(contentsOf: $0) }
            raw.append(contentsOf: signature)
            return "\(SignedNote.signaturePrefix)\(keyName) \(NoteBase64.encode(raw))\n"
        }
    }

    /// The most signatures a note may carry; the specification asks verifiers to accept at least 16.
    public static let maximumSignatureCount = 100

    /// The note text, including its final newline.
    public let text: String

    /// The signatures, in the order of their lines.
    public let signatures: [Signature]

    /// Creates a note from a text and signatures.
    ///
    /// - Throws: ``VouchKitError/malformedInput(_:)`` when the text does not end in a newline or
    ///   holds a control character other than newline, when a key name is unusable, or when
    ///   there are more than ``maximumSignatureCount`` signatures.
    public init(text: String, signatures: [Signature] = []) throws(VouchKitError) {
        guard text.utf8.last == UInt8(ascii: "\n") else {
            throw .malformedInput("a note text must end in a newline")
        }
        try Self.checkNoControlCharacters(text)
        guard signatures.count <= Self.maximumSignatureCount else {
            throw .malformedInput("a note may carry at most \(Self.maximumSignatureCount) signatures")
        }
        for signature in signatures where !NoteVerifier.isValidKeyName(signature.keyName) {
            throw .malformedInput("the signature key name \"\(signature.keyName)\" is not a valid note key name")
        }
        self.text = text
        self.signatures = signatures
    }

    /// Parses a signed note, without checking its signatures.
    ///
    /// - Throws: ``VouchKitError/malformedInput(_:)`` when the message has a control character
    ///   other than newline, no blank line before the signatures, or a malformed signature line.
    public init(parsing message: String) throws(VouchKitError) {
        try Self.checkNoControlCharacters(message)
        let bytes = Array(message.utf8)
        // The text ends at the last blank line; everything after it is signature lines.
        var split: Int?
        var index = bytes.count - 1
        while index > 0 {
            if bytes[index] == 0x0A, bytes[index - 1] == 0x0A {
                split = index - 1
                break
            }
            index -= 1
        }
        guard let split else {
            throw .malformedInput("a signed note needs a blank line between its text and its signatures")
        }
        let signatureBlock = bytes[(split + 2)...]
        guard !signatureBlock.isEmpty, signatureBlock.last == 0x0A else {
            throw .malformedInput("a signed note must end with signature lines, each ending in a newline")
        }
        var signatures: [Signature] = []
        for line in signatureBlock.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false) {
            guard signatures.count < Self.maximumSignatureCount else {
                throw .malformedInput("a note may carry at most \(Self.maximumSignatureCount) signatures")
            }
            signatures.append(try Self.parseSignatureLine(line))
        }
        try self.init(text: String(decoding: bytes[...split], as: UTF8.self), signatures: signatures)
    }

    /// The text form: the note text, a blank line, and one line per signature.
    ///
    /// A note without signatures serializes too, but cannot be parsed back.
    public var serialized: String {
        text + "\n" + signatures.map(\.line).joined()
    }

    /// Checks the signatures against trusted keys.
    ///
    /// Signatures from keys not in `verifiers` (by name and key ID) are ignored. Every signature
    /// from a trusted key must verify, and at least one must be present.
    /// - Returns: The verified signatures, or the reasons the note is rejected.
    public func verify(using verifiers: [NoteVerifier]) -> Result<[Signature], NoteRejection> {
        var verified: [Signature] = []
        var reasons: [String] = []
        var checked: Set<String> = []
        for signature in signatures {
            let candidates = verifiers.filter { $0.name == signature.keyName && $0.keyID == signature.keyID }
            guard let verifier = candidates.first else { continue }
            let label = "\(signature.keyName)+\(NoteVerifier.hex(signature.keyID))"
            guard checked.insert(label).inserted else { continue }
            if candidates.contains(where: { $0 != verifier }) {
                reasons.append("more than one trusted key is named \(label)")
            } else if verifier.isValidSignature(signature.signature, forText: text) {
                verified.append(signature)
            } else {
                reasons.append("the signature by trusted key \(label) does not verify")
            }
        }
        if verified.isEmpty, reasons.isEmpty {
            let trusted = verifiers.map { "\($0.name)+\(NoteVerifier.hex($0.keyID))" }.joined(separator: ", ")
            reasons.append("the note has no signature by a trusted key (trusted: \(trusted.isEmpty ? "none" : trusted))")
        }
        return reasons.isEmpty ? .success(verified) : .failure(NoteRejection(reasons: reasons))
    }

    fileprivate static let signaturePrefix = "\u{2014} "

    private static func checkNoControlCharacters(_ text: String) throws(VouchKitError) {
        if text.utf8.contains(where: { $0 < 0x20 && $0 != 0x0A }) {
            throw .malformedInput("a signed note must not contain control characters other than newline")
        }
    }

    private static func parseSignatureLine(_ line: ArraySlice<UInt8>) throws(VouchKitError) -> Signature {
        let prefix = Array(signaturePrefix.utf8)
        guard line.starts(with: prefix) else {
            throw .malformedInput("a note signature line must start with an em dash (U+2014) and a space")
        }
        let rest = line.dropFirst(prefix.count)
        guard let space = rest.firstIndex(of: 0x20) else {
            throw .malformedInput("a note signature line has the form \"— <key name> <base64 signature>\"")
        }
        let name = String(decoding: rest[..<space], as: UTF8.self)
        let encoded = String(decoding: rest[(space + 1)...], as: UTF8.self)
        guard NoteVerifier.isValidKeyName(name) else {
            throw .malformedInput("the signature key name \"\(name)\" is not a valid note key name")
        }
        guard let raw = NoteBase64.decode(encoded), raw.count > 4 else {
            throw .malformedInput("the signature by \(name) is not base64 of a key ID and a signature")
        }
        let keyID = raw.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return Signature(keyName: name, keyID: keyID, signature: Array(raw.dropFirst(4)))
    }
}
