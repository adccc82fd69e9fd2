/// A transparency log checkpoint (https://c2sp.org/tlog-checkpoint): the signed head of a log's Merkle tree.
///
/// Its note text is the origin line, the tree size in decimal, the base64 root hash, and any
/// extension lines, each ending in a newline:
///
/// ```
/// example.com/log
/// 20852163
/// CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
/// ```
public struct Checkpoint: Hashable, Sendable {
    /// The log's identity, usually a schema-less URL such as `example.com/log`.
    public let origin: String

    /// The number of leaves in the tree.
    public let size: UInt64

    /// The RFC 6962 root hash of the tree at ``size``.
    public let rootHash: MerkleHash

    /// Opaque lines after the root hash; rarely used.
    public let extensionLines: [String]

    /// Creates a checkpoint from its parts.
    ///
    /// - Throws: ``VouchKitError/malformedInput(_:)`` when the origin or an extension line is
    ///   empty or contains a newline.
    public init(origin: String, size: UInt64, rootHash: MerkleHash, extensionLines: [String] = []) throws(VouchKitError) {
        guard !origin.isEmpty, !origin.utf8.contains(0x0A) else {
            throw .malformedInput("a checkpoint origin must be a non-empty single line")
        }
        for line in extensionLines where line.isEmpty || line.utf8.contains(0x0A) {
            throw .malformedInput("a checkpoint extension line must be a non-empty single line")
        }
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
        self.extensionLines = extensionLines
    }

    /// Parses a checkpoint note text, strictly: a non-empty origin, a decimal size without
    /// leading zeros, a base64 32-byte root hash, non-empty extension lines, and a final newline.
    ///
    /// - Throws: ``VouchKitError/malformedInput(_:)`` naming the first line that is wrong.
    public init(parsing text: String) throws(VouchKitError) {
        guard text.utf8.last == UInt8(ascii: "\n") else {
            throw .malformedInput("a checkpoint must end in a newline")
        }
        let lines = text.utf8.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        guard lines.count >= 3 else {
            throw .malformedInput("a checkpoint has at least three lines: origin, tree size and root hash")
        }
        let sizeText = lines[1]
        guard sizeText.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            sizeText == "0" || !sizeText.hasPrefix("0"),
            let size = UInt64(sizeText)
        else {
            throw .malformedInput("the checkpoint tree size \"\(sizeText)\" is not a decimal number without leading zeros")
        }
        let rootHash: MerkleHash
        do {
            rootHash = try MerkleHash(base64Encoded: lines[2])
        } catch {
            throw .malformedInput("the checkpoint root hash \"\(lines[2])\" is not base64 of 32 bytes")
        }
        try self.init(origin: lines[0], size: size, rootHash: rootHash, extensionLines: Array(lines.dropFirst(3)))
    }

    /// The note text: origin, size, base64 root hash and extension lines, each ending in a newline.
    public var text: String {
        ([origin, String(size), rootHash.base64EncodedString] + extensionLines).map { $0 + "\n" }.joined()
    }

    /// Parses a signed checkpoint note and checks its signatures against trusted keys.
    ///
    /// Signatures from other keys are ignored; at least one trusted signature must verify and
    /// none may fail. The key name need not equal the origin.
    /// - Returns: The checkpoint once its signatures verify, or the reasons it was rejected.
    /// - Throws: ``VouchKitError/malformedInput(_:)`` when the note or the checkpoint text is malformed.
    public static func verify(
        signedNote: String,
        verifiers: [NoteVerifier]
    ) throws(VouchKitError) -> Result<Checkpoint, NoteRejection> {
        let note = try SignedNote(parsing: signedNote)
        let checkpoint = try Checkpoint(parsing: note.text)
        return note.verify(using: verifiers).map { _ in checkpoint }
    }
}
