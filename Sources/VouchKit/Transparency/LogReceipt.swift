/// Proof that an entry is in a transparency log: the entry, its index, the inclusion proof and the
/// signed checkpoint the proof leads to. A Vouch server returns one for every issuance with the
/// enrollment answer and from `GET /v1/log/proof/inclusion`; anyone holding the log's verifier key
/// checks it offline.
///
/// The JSON form is what the server sends:
///
/// ```json
/// {"index": 41, "entry": "{\"actor\":…}", "treeSize": 57,
///  "inclusionProof": ["base64", …], "checkpoint": "example.com/vouch/log\n57\n…"}
/// ```
public struct LogReceipt: Codable, Hashable, Sendable {
    /// The entry's zero-based index in the log.
    public var index: UInt64
    /// The entry exactly as the log hashed it (for Vouch: an event's canonical JSON).
    public var entry: String
    /// The size of the tree the proof is for: the checkpoint's size.
    public var treeSize: UInt64
    /// The audit path, base64, from the leaf's sibling up.
    public var inclusionProof: [String]
    /// The signed checkpoint (a C2SP signed note) of `treeSize`.
    public var checkpoint: String

    public init(index: UInt64, entry: String, treeSize: UInt64, inclusionProof: [MerkleHash], checkpoint: String) {
        self.index = index
        self.entry = entry
        self.treeSize = treeSize
        self.inclusionProof = inclusionProof.map(\.base64EncodedString)
        self.checkpoint = checkpoint
    }

    /// The RFC 6962 leaf hash of the entry.
    public var leafHash: MerkleHash { MerkleHash.leafHash(Array(entry.utf8)) }

    /// Checks the receipt: the checkpoint is signed by one of `verifiers` (and by no key of theirs
    /// that fails), is for `treeSize`, and the entry's leaf hash leads to its root along the proof.
    ///
    /// - Returns: The verified checkpoint, or the reasons the receipt does not hold.
    public func verify(verifiers: [NoteVerifier]) -> Result<Checkpoint, NoteRejection> {
        let verified: Result<Checkpoint, NoteRejection>
        do {
            verified = try Checkpoint.verify(signedNote: checkpoint, verifiers: verifiers)
        } catch {
            return .failure(NoteRejection(reasons: ["the checkpoint is malformed: \(error.reason)"]))
        }
        guard case .success(let checkpoint) = verified else { return verified }
        guard checkpoint.size == treeSize else {
            return .failure(NoteRejection(reasons: ["the proof is for a tree of size \(treeSize) but the checkpoint is of size \(checkpoint.size)"]))
        }
        var hashes: [MerkleHash] = []
        for (position, text) in inclusionProof.enumerated() {
            guard let hash = try? MerkleHash(base64Encoded: text) else {
                return .failure(NoteRejection(reasons: ["inclusion proof hash \(position) is not base64 of 32 bytes"]))
            }
            hashes.append(hash)
        }
        let proof = InclusionProof(leafIndex: index, treeSize: treeSize, hashes: hashes)
        do {
            switch try proof.verify(leafHash: leafHash, rootHash: checkpoint.rootHash) {
            case .valid: return .success(checkpoint)
            case .invalid(let reason): return .failure(NoteRejection(reasons: ["entry \(index) is not in the checkpoint's tree: \(reason)"]))
            }
        } catch {
            return .failure(NoteRejection(reasons: [error.reason]))
        }
    }
}
