import VouchKit

/// Valid inclusion proofs in a tree of 2^24 leaves, made without building the tree: a random
/// leaf hash and a random audit path give a root through `root(forLeafHash:)`, and the proof is
/// valid for that root. A tree of a power-of-two size has a path of exactly 24 hashes.
struct InclusionProofSet: Sendable {
    struct Entry: Sendable {
        let proof: InclusionProof
        let leafHash: MerkleHash
        let rootHash: MerkleHash
    }

    static let treeSize: UInt64 = 1 << 24
    static let pathLength = 24

    /// A power of two, so that a benchmark can pick an entry with a mask.
    let entries: [Entry]

    init(count: Int = 64) throws {
        precondition(count > 0 && count & (count - 1) == 0, "the count must be a power of two")
        var generator = SystemRandomNumberGenerator()
        func randomHash() throws -> MerkleHash {
            try MerkleHash(bytes: (0..<MerkleHash.byteCount).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        entries = try (0..<count).map { _ in
            let proof = InclusionProof(
                leafIndex: UInt64.random(in: 0..<Self.treeSize, using: &generator), treeSize: Self.treeSize,
                hashes: try (0..<Self.pathLength).map { _ in try randomHash() })
            let leafHash = try randomHash()
            return Entry(proof: proof, leafHash: leafHash, rootHash: try proof.root(forLeafHash: leafHash))
        }
    }
}
