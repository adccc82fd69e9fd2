/// An inclusion proof (RFC 9162 §2.1.3): the audit path showing that a leaf is in a tree of a given size.
///
/// Verification follows RFC 9162 §2.1.3.2 in the form transparency-dev/merkle uses: the path
/// splits into an *inner* part, where the leaf's subtree and the last leaf's subtree differ,
/// and a *border* part along the right edge of the tree. Checking a proof hashes one node per
/// path entry and builds no arrays; the only allocations are swift-crypto's SHA-256 contexts,
/// one per hash (24 for a tree of 2^24 leaves, measured in `Benchmarks/`).
public struct InclusionProof: Hashable, Sendable {
    /// The zero-based index of the leaf in the tree.
    public var leafIndex: UInt64

    /// The number of leaves in the tree the proof is for.
    public var treeSize: UInt64

    /// The audit path, from the leaf's sibling up to the child of the root.
    public var hashes: [MerkleHash]

    /// Creates a proof from its parts; nothing is checked until it is used.
    public init(leafIndex: UInt64, treeSize: UInt64, hashes: [MerkleHash]) {
        self.leafIndex = leafIndex
        self.treeSize = treeSize
        self.hashes = hashes
    }

    /// The root hash that this proof leads to from `leafHash` (RFC 9162 §2.1.3.2, steps 1–4).
    ///
    /// Use it to derive a root for a proof, for example to build a test tree head from random hashes.
    /// - Throws: ``VouchKitError/malformedInput(_:)`` when the index is not below the tree size,
    ///   or when the path does not have the length the index and size require.
    public func root(forLeafHash leafHash: MerkleHash) throws(VouchKitError) -> MerkleHash {
        guard leafIndex < treeSize else {
            throw .malformedInput("leaf index \(leafIndex) is not below the tree size \(treeSize)")
        }
        let (inner, border) = Self.decompose(index: leafIndex, size: treeSize)
        guard hashes.count == inner + border else {
            throw .malformedInput(
                "an inclusion proof for leaf \(leafIndex) in a tree of size \(treeSize) needs a path of length \(inner + border), not \(hashes.count)"
            )
        }
        var hash = leafHash
        for level in 0..<inner {
            if (leafIndex >> UInt64(level)) & 1 == 0 {
                hash = MerkleHash.nodeHash(hash, hashes[level])
            } else {
                hash = MerkleHash.nodeHash(hashes[level], hash)
            }
        }
        for level in inner..<(inner + border) {
            hash = MerkleHash.nodeHash(hashes[level], hash)
        }
        return hash
    }

    /// Checks that the leaf with `leafHash` is at ``leafIndex`` in the tree of ``treeSize`` with `rootHash`.
    ///
    /// - Returns: `.valid`, or `.invalid` when the path leads to another root.
    /// - Throws: ``VouchKitError/malformedInput(_:)`` when the proof cannot be checked at all:
    ///   the index is not below the tree size, or the path has the wrong length.
    public func verify(leafHash: MerkleHash, rootHash: MerkleHash) throws(VouchKitError) -> MerkleProofVerdict {
        let computed = try root(forLeafHash: leafHash)
        guard computed == rootHash else {
            return .invalid(reason: "computed root \(computed) does not match the expected root \(rootHash)")
        }
        return .valid
    }

    /// The lengths of the inner and border parts of the path for `index` in a tree of `size` leaves.
    ///
    /// The inner part climbs until the leaf's subtree and the last leaf's subtree meet; above it,
    /// each set bit of the index is a left sibling on the tree's right border.
    static func decompose(index: UInt64, size: UInt64) -> (inner: Int, border: Int) {
        let inner = UInt64.bitWidth - (index ^ (size - 1)).leadingZeroBitCount
        let border = (index >> UInt64(inner)).nonzeroBitCount
        return (inner, border)
    }
}
