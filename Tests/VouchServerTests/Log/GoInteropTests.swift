import Crypto
import Foundation
import Testing
import VouchCore
import VouchKit

/// Go's reference implementation, `golang.org/x/mod/sumdb/note` and `sumdb/tlog`, reads what
/// Vouch's transparency log publishes: signed checkpoints, inclusion and consistency proofs, and
/// leaf hashes, from a tree that crosses the 256-leaf boundary of a full tile. It also refuses each
/// of them once altered, so the acceptance is not vacuous.
@Suite(
    "Go tlog interop",
    .enabled(if: GoTlogVerifier.isAvailable || ProcessInfo.processInfo.environment["CI"] != nil, "needs go and golang.org/x/mod (CI installs them)"),
    .timeLimit(.minutes(5))
)
struct GoInteropTests {
    /// The entries of the test log.
    static let entries: [[UInt8]] = (0..<300).map { Array("vouch interop entry \($0)".utf8) }

    /// The test log: a tree over ``entries``.
    static let tree: MerkleTree = {
        var tree = MerkleTree()
        for entry in entries { tree.append(entry) }
        return tree
    }()

    static let origin = "vouch.example/log"

    // MARK: Accepted

    @Test func goOpensSignedCheckpointsAndReadsTheirOriginSizeAndRoot() async throws {
        let go = try await GoTlogVerifier.shared()
        let signer = try NoteSigner.generate(name: Self.origin)
        for size: UInt64 in [1, 2, 255, 256, 257, 300] {
            let verdict = try await go.verify(.init(verifierKeys: [signer.verifierKey], checkpoint: try Self.checkpoint(size: size, signer: signer)))
            let checkpoint = try #require(verdict.checkpoint)
            #expect(checkpoint.ok, "size \(size): \(checkpoint.error ?? "")")
            #expect(checkpoint.origin == Self.origin)
            #expect(checkpoint.size == size)
            #expect(checkpoint.rootHash == (try Self.tree.rootHash(size: size)))
        }
    }

    @Test func goAcceptsACheckpointWithExtensionLinesAndASignatureByAKeyItDoesNotKnow() async throws {
        let go = try await GoTlogVerifier.shared()
        let signer = try NoteSigner.generate(name: Self.origin)
        let witness = try NoteSigner.generate(name: "witness.example")
        let text = try Checkpoint(origin: Self.origin, size: 300, rootHash: try Self.tree.rootHash(size: 300), extensionLines: ["vouch extension"]).text
        let note = try witness.cosign(try signer.sign(text))
        #expect(note.signatures.count == 2)
        let checkpoint = try #require(try await go.verify(.init(verifierKeys: [signer.verifierKey], checkpoint: note.serialized)).checkpoint)
        #expect(checkpoint.ok, "\(checkpoint.error ?? "")")
        #expect(checkpoint.size == 300)
        #expect(checkpoint.rootHash == (try Self.tree.rootHash(size: 300)))

        // Trusting both keys, Go checks both signatures.
        let both = try #require(try await go.verify(.init(verifierKeys: [signer.verifierKey, witness.verifierKey], checkpoint: note.serialized)).checkpoint)
        #expect(both.ok, "\(both.error ?? "")")
    }

    @Test func goAcceptsInclusionProofsAcrossTheTree() async throws {
        let go = try await GoTlogVerifier.shared()
        var claims: [(label: String, claim: GoTlogVerifier.Inclusion)] = []
        for size: UInt64 in [1, 2, 3, 4, 5, 7, 8, 9, 255, 256, 257, 300] {
            let indices = Set<UInt64>([0, 1, size / 2, 127, 128, 255, 256, max(size, 2) - 2, size - 1]).filter { $0 < size }.sorted()
            for index in indices {
                claims.append(("leaf \(index) of \(size)", try Self.inclusion(index, size)))
            }
        }
        let verdicts = try await go.verify(.init(inclusion: claims.map(\.claim))).inclusion
        try #require(verdicts.count == claims.count)
        for (claim, verdict) in zip(claims, verdicts) {
            #expect(verdict.ok, "Go refused the inclusion proof of \(claim.label): \(verdict.error ?? "")")
        }
    }

    @Test func goAcceptsConsistencyProofsAcrossTheTree() async throws {
        let go = try await GoTlogVerifier.shared()
        var pairs: [(old: UInt64, new: UInt64)] = []
        for old: UInt64 in [1, 2, 3, 7, 8, 100, 128, 255, 256, 257, 299, 300] {
            for new in Set([old, old + 1, 256, 257, 300]).sorted() where new >= old && new <= 300 {
                pairs.append((old, new))
            }
        }
        let claims = try pairs.map { try Self.consistency($0.old, $0.new) }
        let verdicts = try await go.verify(.init(consistency: claims)).consistency
        try #require(verdicts.count == claims.count)
        for (pair, verdict) in zip(pairs, verdicts) {
            #expect(verdict.ok, "Go refused the consistency proof from \(pair.old) to \(pair.new): \(verdict.error ?? "")")
        }
    }

    @Test func goComputesTheSameLeafHashes() async throws {
        let go = try await GoTlogVerifier.shared()
        let extra: [[UInt8]] = [[], Array(0...255), Array(repeating: 0, count: 10_000)]
        let claims = zip(Self.entries, Self.tree.leafHashes).map { GoTlogVerifier.Leaf(entry: $0, leafHash: $1) }
            + extra.map { GoTlogVerifier.Leaf(entry: $0, leafHash: MerkleHash.leafHash($0)) }
        let verdicts = try await go.verify(.init(leaves: claims)).leaves
        try #require(verdicts.count == claims.count)
        for (index, verdict) in verdicts.enumerated() {
            #expect(verdict.ok, "Go computed another leaf hash for entry \(index): \(verdict.error ?? "")")
        }
    }

    // MARK: Refused

    @Test func goRefusesACheckpointWithAnyByteOfItsBodyChanged() async throws {
        let go = try await GoTlogVerifier.shared()
        let signer = try NoteSigner.generate(name: Self.origin)
        let signed = try Self.checkpoint(size: 300, signer: signer)
        let original = try #require(try await go.verify(.init(verifierKeys: [signer.verifierKey], checkpoint: signed)).checkpoint)
        #expect(original.ok, "\(original.error ?? "")")

        let bytes = Array(signed.utf8)
        let bodyLength = try SignedNote(parsing: signed).text.utf8.count
        // Every byte but the newlines, which would break the note's structure instead of its signature.
        for position in 0..<bodyLength where bytes[position] != UInt8(ascii: "\n") {
            var altered = bytes
            altered[position] ^= 0x01
            let text = String(decoding: altered, as: UTF8.self)
            let verdict = try #require(try await go.verify(.init(verifierKeys: [signer.verifierKey], checkpoint: text)).checkpoint)
            #expect(!verdict.ok, "Go accepted the checkpoint with byte \(position) changed: \(text)")
            #expect(verdict.error?.contains("invalid signature") == true, "byte \(position): \(verdict.error ?? "")")
        }
    }

    @Test func goRefusesACheckpointSignedByAnotherKey() async throws {
        let go = try await GoTlogVerifier.shared()
        let trusted = try NoteSigner.generate(name: Self.origin)
        let impostor = try NoteSigner.generate(name: Self.origin)
        let stranger = try NoteSigner.generate(name: "stranger.example")
        let text = try Checkpoint(origin: Self.origin, size: 300, rootHash: try Self.tree.rootHash(size: 300)).text
        let genuine = try trusted.sign(text)

        func verdict(_ note: SignedNote) async throws -> GoTlogVerifier.CheckpointVerdict {
            try #require(try await go.verify(.init(verifierKeys: [trusted.verifierKey], checkpoint: note.serialized)).checkpoint)
        }
        let accepted = try await verdict(genuine)
        #expect(accepted.ok, "\(accepted.error ?? "")")

        // Same name, another key: Go finds no signature by a key it trusts.
        let sameName = try await verdict(try impostor.sign(text))
        #expect(!sameName.ok)
        #expect(sameName.error?.contains("no verifiable signatures") == true, "\(sameName.error ?? "")")

        let otherName = try await verdict(try stranger.sign(text))
        #expect(!otherName.ok)
        #expect(otherName.error?.contains("no verifiable signatures") == true, "\(otherName.error ?? "")")

        // Another key's signature under the trusted key's name and key ID.
        let forgedSignature = try #require(try impostor.sign(text).signatures.first)
        let relabelled = try SignedNote(
            text: text,
            signatures: [SignedNote.Signature(keyName: trusted.name, keyID: trusted.keyID, signature: forgedSignature.signature)]
        )
        let forged = try await verdict(relabelled)
        #expect(!forged.ok)
        #expect(forged.error?.contains("invalid signature") == true, "\(forged.error ?? "")")

        // The trusted key's signature over another checkpoint, moved onto this one.
        let otherText = try Checkpoint(origin: Self.origin, size: 299, rootHash: try Self.tree.rootHash(size: 299)).text
        let moved = try SignedNote(text: text, signatures: try trusted.sign(otherText).signatures)
        let replayed = try await verdict(moved)
        #expect(!replayed.ok)
        #expect(replayed.error?.contains("invalid signature") == true, "\(replayed.error ?? "")")
    }

    @Test(arguments: [(257, 300), (0, 256), (255, 257), (299, 300), (0, 2)] as [(UInt64, UInt64)])
    func goRefusesAnAlteredInclusionProof(index: UInt64, size: UInt64) async throws {
        let go = try await GoTlogVerifier.shared()
        let proof = try Self.tree.inclusionProof(leafIndex: index, treeSize: size)
        let leaf = Self.tree.leafHashes[Int(index)]
        let root = try Self.tree.rootHash(size: size)
        let genuine = GoTlogVerifier.Inclusion(proof, leafHash: leaf, root: root)
        #expect(!proof.hashes.isEmpty)

        var altered: [(label: String, claim: GoTlogVerifier.Inclusion)] = []
        func alter(_ label: String, _ change: (inout GoTlogVerifier.Inclusion) throws -> Void) rethrows {
            var claim = genuine
            try change(&claim)
            altered.append((label, claim))
        }
        for (position, hash) in proof.hashes.enumerated() {
            for bit in [0, 255] {
                try alter("bit \(bit) of proof hash \(position) flipped") { $0.proof[position] = try Self.flipping(bit, of: hash).base64EncodedString }
            }
        }
        alter("first proof hash dropped") { $0.proof.removeFirst() }
        alter("last proof hash dropped") { $0.proof.removeLast() }
        alter("a proof hash repeated") { $0.proof.append($0.proof[0]) }
        if proof.hashes.count > 1 { alter("proof hashes reversed") { $0.proof.reverse() } }
        alter("index + 1") { $0.index += 1 }
        if index > 0 { alter("index - 1") { $0.index -= 1 } }
        // Not the tree size alone: a proof binds the size only through its shape, so a leaf whose
        // path runs the same way in a tree one leaf larger or smaller verifies there too.
        try alter("root of size \(size - 1)") { $0.root = try Self.tree.rootHash(size: size - 1).base64EncodedString }
        try alter("root with a bit flipped") { $0.root = try Self.flipping(0, of: root).base64EncodedString }
        let neighbour = Self.tree.leafHashes[Int(index + 1 < size ? index + 1 : index - 1)]
        alter("leaf hash of a neighbour") { $0.leafHash = neighbour.base64EncodedString }
        alter("leaf hash is the root") { $0.leafHash = root.base64EncodedString }

        let verdicts = try await go.verify(.init(inclusion: [genuine] + altered.map(\.claim))).inclusion
        try #require(verdicts.count == altered.count + 1)
        #expect(verdicts[0].ok, "Go refused the genuine proof of leaf \(index) of \(size): \(verdicts[0].error ?? "")")
        for (claim, verdict) in zip(altered, verdicts.dropFirst()) {
            #expect(!verdict.ok, "Go accepted the proof of leaf \(index) of \(size) with \(claim.label)")
        }
    }

    @Test(arguments: [(200, 300), (256, 300), (3, 300), (255, 256), (1, 2)] as [(UInt64, UInt64)])
    func goRefusesAnAlteredConsistencyProof(oldSize: UInt64, newSize: UInt64) async throws {
        let go = try await GoTlogVerifier.shared()
        let proof = try Self.tree.consistencyProof(oldSize: oldSize, newSize: newSize)
        let oldRoot = try Self.tree.rootHash(size: oldSize)
        let newRoot = try Self.tree.rootHash(size: newSize)
        let genuine = GoTlogVerifier.Consistency(proof, oldRoot: oldRoot, newRoot: newRoot)
        #expect(!proof.hashes.isEmpty)

        var altered: [(label: String, claim: GoTlogVerifier.Consistency)] = []
        func alter(_ label: String, _ change: (inout GoTlogVerifier.Consistency) throws -> Void) rethrows {
            var claim = genuine
            try change(&claim)
            altered.append((label, claim))
        }
        for (position, hash) in proof.hashes.enumerated() {
            for bit in [0, 255] {
                try alter("bit \(bit) of proof hash \(position) flipped") { $0.proof[position] = try Self.flipping(bit, of: hash).base64EncodedString }
            }
        }
        alter("first proof hash dropped") { $0.proof.removeFirst() }
        alter("last proof hash dropped") { $0.proof.removeLast() }
        alter("a proof hash repeated") { $0.proof.append($0.proof[0]) }
        alter("old root and new root swapped") { swap(&$0.oldRoot, &$0.newRoot) }
        try alter("old root with a bit flipped") { $0.oldRoot = try Self.flipping(0, of: oldRoot).base64EncodedString }
        try alter("new root with a bit flipped") { $0.newRoot = try Self.flipping(0, of: newRoot).base64EncodedString }
        try alter("new root of size \(newSize - 1)") { $0.newRoot = try Self.tree.rootHash(size: newSize - 1).base64EncodedString }
        if oldSize > 1 {
            try alter("old root of size \(oldSize - 1)") { $0.oldRoot = try Self.tree.rootHash(size: oldSize - 1).base64EncodedString }
            alter("old size - 1") { $0.oldSize -= 1 }
        }
        alter("old size + 1") { $0.oldSize += 1 }
        alter("new size equal to the old") { $0.newSize = $0.oldSize }

        let verdicts = try await go.verify(.init(consistency: [genuine] + altered.map(\.claim))).consistency
        try #require(verdicts.count == altered.count + 1)
        #expect(verdicts[0].ok, "Go refused the genuine proof from \(oldSize) to \(newSize): \(verdicts[0].error ?? "")")
        for (claim, verdict) in zip(altered, verdicts.dropFirst()) {
            #expect(!verdict.ok, "Go accepted the proof from \(oldSize) to \(newSize) with \(claim.label)")
        }
    }

    @Test func goRefusesTwoTreesOfOneSizeWithDifferentRoots() async throws {
        let go = try await GoTlogVerifier.shared()
        let same = try Self.consistency(300, 300)
        var forked = same
        forked.oldRoot = try Self.flipping(0, of: try Self.tree.rootHash(size: 300)).base64EncodedString
        var padded = same
        padded.proof = [same.newRoot]
        let verdicts = try await go.verify(.init(consistency: [same, forked, padded])).consistency
        try #require(verdicts.count == 3)
        #expect(same.proof.isEmpty)
        #expect(verdicts[0].ok, "\(verdicts[0].error ?? "")")
        #expect(!verdicts[1].ok, "Go accepted two different roots for one tree size")
        #expect(!verdicts[2].ok, "Go accepted a non-empty proof between trees of one size")
    }

    @Test func goRefusesAWrongLeafHashForAnEntry() async throws {
        let go = try await GoTlogVerifier.shared()
        let entry = Self.entries[5]
        var changedEntry = entry
        changedEntry[0] ^= 0x01
        let claims: [(label: String, claim: GoTlogVerifier.Leaf)] = [
            ("the leaf hash of the next entry", .init(entry: entry, leafHash: Self.tree.leafHashes[6])),
            ("one byte of the entry changed", .init(entry: changedEntry, leafHash: Self.tree.leafHashes[5])),
            ("SHA-256 of the entry without the 0x00 leaf prefix", .init(entry: entry, leafHash: try MerkleHash(bytes: Array(SHA256.hash(data: entry))))),
            ("a leaf hash with a bit flipped", .init(entry: entry, leafHash: try Self.flipping(0, of: Self.tree.leafHashes[5]))),
        ]
        let genuine = GoTlogVerifier.Leaf(entry: entry, leafHash: Self.tree.leafHashes[5])
        let verdicts = try await go.verify(.init(leaves: [genuine] + claims.map(\.claim))).leaves
        try #require(verdicts.count == claims.count + 1)
        #expect(verdicts[0].ok, "Go refused the genuine leaf hash: \(verdicts[0].error ?? "")")
        for (claim, verdict) in zip(claims, verdicts.dropFirst()) {
            #expect(!verdict.ok, "Go accepted \(claim.label)")
        }
    }

    // MARK: Helpers

    /// The checkpoint of the test log at `size`, signed by `signer`, as note text.
    static func checkpoint(size: UInt64, signer: NoteSigner) throws -> String {
        let checkpoint = try Checkpoint(origin: origin, size: size, rootHash: try tree.rootHash(size: size))
        return try signer.sign(checkpoint.text).serialized
    }

    /// The inclusion proof of leaf `index` in the test log at `size`, with its leaf hash and root.
    static func inclusion(_ index: UInt64, _ size: UInt64) throws -> GoTlogVerifier.Inclusion {
        GoTlogVerifier.Inclusion(
            try tree.inclusionProof(leafIndex: index, treeSize: size),
            leafHash: tree.leafHashes[Int(index)],
            root: try tree.rootHash(size: size)
        )
    }

    /// The consistency proof between two sizes of the test log, with both roots.
    static func consistency(_ oldSize: UInt64, _ newSize: UInt64) throws -> GoTlogVerifier.Consistency {
        GoTlogVerifier.Consistency(
            try tree.consistencyProof(oldSize: oldSize, newSize: newSize),
            oldRoot: try tree.rootHash(size: oldSize),
            newRoot: try tree.rootHash(size: newSize)
        )
    }

    /// `hash` with one bit flipped, counting from the low bit of its first byte.
    static func flipping(_ bit: Int, of hash: MerkleHash) throws -> MerkleHash {
        var bytes = hash.bytes
        bytes[bit / 8] ^= 1 << UInt8(bit % 8)
        return try MerkleHash(bytes: bytes)
    }
}
