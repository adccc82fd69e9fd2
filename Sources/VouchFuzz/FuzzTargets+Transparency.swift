import Foundation
import VouchCore
import VouchKit

/// The transparency log as others see it: signed notes, checkpoints and cosignatures, note keys,
/// tile paths and entry bundles, proofs and receipts, and an audit of a log.
extension FuzzTargets {
    /// A signed note, as `POST /v1/log/cosignatures` reads it: checked against the log's key and
    /// a witness's, its text read as a checkpoint. Its text form must read back as the same note.
    static func signedNote(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        guard let note = try? SignedNote(parsing: text) else { return }
        guard let again = try? SignedNote(parsing: note.serialized), again == note else {
            fatalError("a signed note is written as \(note.serialized.debugDescription.prefix(400)), which reads back differently")
        }
        _ = note.verify(using: [FuzzFixture.logSigner.verifier])
        _ = FuzzFixture.witness.verifier.cosignature(in: note)
        _ = try? Checkpoint(parsing: note.text)
        _ = try? Checkpoint.verify(signedNote: text, verifiers: [FuzzFixture.logSigner.verifier])
    }

    /// A checkpoint's note text. Its text form must read back as the same checkpoint.
    static func checkpoint(_ data: Data) {
        guard let checkpoint = try? Checkpoint(parsing: String(decoding: data, as: UTF8.self)) else { return }
        guard (try? Checkpoint(parsing: checkpoint.text)) == checkpoint else {
            fatalError("a checkpoint is written as \(checkpoint.text.debugDescription.prefix(400)), which reads back differently")
        }
    }

    /// A note verifier, witness, or signer key text (`vouch log verify --key`, a server's witness
    /// list, a witness's own key). Each must read back from the text it writes.
    static func noteKey(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        if let verifier = try? NoteVerifier(verifierKey: text), (try? NoteVerifier(verifierKey: verifier.verifierKey)) != verifier {
            fatalError("note verifier key \(text.prefix(200)) is written as \(verifier.verifierKey), which reads back differently")
        }
        if let witness = try? CosignatureVerifier(verifierKey: text), (try? CosignatureVerifier(verifierKey: witness.verifierKey)) != witness {
            fatalError("witness key \(text.prefix(200)) is written as \(witness.verifierKey), which reads back differently")
        }
        _ = (try? NoteSigner(signerKey: text))?.verifierKey
        _ = (try? CosignatureSigner(signerKey: text))?.verifier
    }

    /// A tile path of `GET /v1/log/tile/…`; only its canonical spelling names a tile.
    static func logTile(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        guard let tile = LogTile(path: text) else { return }
        guard tile.path == text, LogTile(path: tile.path) == tile else {
            fatalError("tile path \(text.prefix(200)) reads as \(tile), written \(tile.path)")
        }
        _ = tile.nodes.count
        _ = tile.entryRange.count
        for size in [0, 1, 255, 256, 65_537, UInt64.max] {
            _ = LogTile.current(level: tile.level, index: tile.index, treeSize: size)
        }
    }

    /// A C2SP entry bundle (each entry after its 16-bit length), as an auditor reads a log's.
    static func entryBundle(_ data: Data) {
        guard let entries = LogAuditor.entries(inBundle: Array(data)) else { return }
        for entry in entries { _ = MerkleHash.leafHash(entry) }
    }

    /// An inclusion or consistency proof in the JSON of the transparency-dev vectors, checked;
    /// and the stored nodes the server reads to answer the same question.
    static func merkleProof(_ data: Data) {
        if let vector = try? JSONDecoder().decode(InclusionVector.self, from: data) {
            if vector.leafIdx < vector.treeSize { _ = MerkleProofs.inclusionNodes(leafIndex: vector.leafIdx, treeSize: vector.treeSize) }
            guard let root = try? MerkleHash(base64Encoded: vector.root), let leaf = try? MerkleHash(base64Encoded: vector.leafHash),
                let hashes = try? vector.proof.map({ text throws(VouchKitError) in try MerkleHash(base64Encoded: text) })
            else { return }
            _ = try? InclusionProof(leafIndex: vector.leafIdx, treeSize: vector.treeSize, hashes: hashes).verify(leafHash: leaf, rootHash: root)
        }
        if let vector = try? JSONDecoder().decode(ConsistencyVector.self, from: data) {
            if vector.size1 >= 1, vector.size1 <= vector.size2 {
                _ = MerkleProofs.consistencyNodes(oldSize: vector.size1, newSize: vector.size2)
            }
            guard let root1 = try? MerkleHash(base64Encoded: vector.root1), let root2 = try? MerkleHash(base64Encoded: vector.root2),
                let hashes = try? vector.proof.map({ text throws(VouchKitError) in try MerkleHash(base64Encoded: text) })
            else { return }
            _ = try? ConsistencyProof(oldSize: vector.size1, newSize: vector.size2, hashes: hashes).verify(oldRoot: root1, newRoot: root2)
        }
    }

    private struct InclusionVector: Decodable {
        var leafIdx: UInt64
        var treeSize: UInt64
        var root: String
        var leafHash: String
        var proof: [String]
    }

    private struct ConsistencyVector: Decodable {
        var size1: UInt64
        var size2: UInt64
        var root1: String
        var root2: String
        var proof: [String]
    }

    /// A log receipt (JSON, one or a list), as `vouch log verify-receipt` reads it, checked
    /// against the fixture's log key.
    static func logReceipt(_ data: Data) {
        let receipts = (try? JSONDecoder().decode([LogReceipt].self, from: data)) ?? (try? JSONDecoder().decode(LogReceipt.self, from: data)).map { [$0] } ?? []
        for receipt in receipts { _ = receipt.verify(verifiers: [FuzzFixture.logSigner.verifier]) }
    }

    /// An audit of a log (`vouch log verify`) that serves what the input holds (see
    /// ``FuzzLogSource``).
    static func logAudit(_ data: Data) {
        guard let source = FuzzLogSource(input: data) else { return }
        _ = runBlocking {
            (try? await LogAuditor(verifiers: [FuzzFixture.logSigner.verifier]).audit(source, state: nil).get()) != nil
        }
    }
}

/// A log of one tile at most, serving what a fuzz input holds: a checkpoint text (signed with the
/// fixture's log key) up to the first NUL byte, then the entry bundle of the first tile after its
/// 16-bit big-endian length, then the leaf hashes tile.
struct FuzzLogSource: LogAuditSource {
    let note: String
    let bundle: [UInt8]
    let leaves: [UInt8]

    /// Nil when the checkpoint text cannot be signed as a note.
    init?(input: Data) {
        let bytes = Array(input)
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        guard let note = try? FuzzFixture.logSigner.sign(String(decoding: bytes[..<end], as: UTF8.self)) else { return nil }
        var rest = bytes.dropFirst(end + 1)
        var bundle: [UInt8] = []
        if rest.count >= 2 {
            let length = Int(rest[rest.startIndex]) << 8 | Int(rest[rest.startIndex + 1])
            rest = rest.dropFirst(2)
            bundle = Array(rest.prefix(length))
            rest = rest.dropFirst(length)
        }
        self.note = note.serialized
        self.bundle = bundle
        self.leaves = Array(rest)
    }

    func checkpoint() async throws -> String { note }

    func consistencyProof(from oldSize: UInt64, to newSize: UInt64) async throws -> [MerkleHash] { [] }

    func tile(_ tile: LogTile) async throws -> [UInt8]? {
        guard tile.index == 0 else { return nil }
        return tile.level == nil ? bundle : tile.level == 0 ? leaves : nil
    }

    func entryIndexes(_ range: Range<UInt64>) async throws -> [UInt64] { [] }
}
