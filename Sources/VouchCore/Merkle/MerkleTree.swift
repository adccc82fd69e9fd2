import Foundation
import VouchKit

/// An append-only, in-memory RFC 6962 Merkle tree that produces roots and proofs for any past size.
///
/// It keeps every complete subtree hash, level by level, so a root, an inclusion proof
/// (RFC 9162 §2.1.3.1) or a consistency proof (RFC 9162 §2.1.4.1) costs O(log n) hash lookups
/// and at most O(log n) node hashes, for the current size or any earlier one (`MerkleProofs`,
/// which the database-backed log uses too).
public struct MerkleTree: Sendable {
    /// `levels[k][i]` is the hash of the perfect subtree of 2^k leaves starting at leaf i·2^k.
    private var levels: [[MerkleHash]] = [[]]

    /// Creates an empty tree.
    public init() {}

    /// The number of leaves.
    public var size: UInt64 {
        UInt64(levels[0].count)
    }

    /// The hash of each leaf, in order.
    public var leafHashes: [MerkleHash] {
        levels[0]
    }

    /// Appends a leaf entry, hashed as `SHA-256(0x00 || data)`, and returns its index.
    @discardableResult
    public mutating func append(_ data: some DataProtocol) -> UInt64 {
        append(leafHash: MerkleHash.leafHash(data))
    }

    /// Appends a leaf by its leaf hash and returns its index.
    @discardableResult
    public mutating func append(leafHash: MerkleHash) -> UInt64 {
        let index = levels[0].count
        levels[0].append(leafHash)
        // Complete every perfect subtree that this leaf closes.
        var level = 0
        var position = index
        while position & 1 == 1 {
            let parent = MerkleHash.nodeHash(levels[level][position - 1], levels[level][position])
            level += 1
            position >>= 1
            if levels.count == level { levels.append([]) }
            levels[level].append(parent)
        }
        return UInt64(index)
    }

    /// The root hash of the tree at `size` leaves, the current size when `nil`.
    ///
    /// - Throws: ``VouchKitError/malformedInput(_:)`` when `size` is larger than the tree.
    public func rootHash(size: UInt64? = nil) throws(VouchKitError) -> MerkleHash {
        let size = size ?? self.size
        try checkSize(size, "tree size")
        return MerkleProofs.root(size: size, hash: stored)
    }

    /// The inclusion proof of the leaf at `leafIndex` in the tree at `treeSize` leaves (RFC 9162 §2.1.3.1).
    ///
    /// - Throws: ``VouchKitError/malformedInput(_:)`` when the size is larger than the tree or the
    ///   index is not below it.
    public func inclusionProof(leafIndex: UInt64, treeSize: UInt64) throws(VouchKitError) -> InclusionProof {
        try checkSize(treeSize, "tree size")
        guard leafIndex < treeSize else {
            throw .malformedInput("leaf index \(leafIndex) is not below the tree size \(treeSize)")
        }
        return MerkleProofs.inclusionProof(leafIndex: leafIndex, treeSize: treeSize, hash: stored)
    }

    /// The consistency proof from the tree at `oldSize` leaves to the tree at `newSize` leaves
    /// (RFC 9162 §2.1.4.1); empty when the sizes are equal.
    ///
    /// - Throws: ``VouchKitError/malformedInput(_:)`` when `newSize` is larger than the tree,
    ///   `oldSize` is zero, or `oldSize` is larger than `newSize`.
    public func consistencyProof(oldSize: UInt64, newSize: UInt64) throws(VouchKitError) -> ConsistencyProof {
        try checkSize(newSize, "new tree size")
        guard oldSize > 0, oldSize <= newSize else {
            throw .malformedInput("a consistency proof needs 0 < old size ≤ new size, not \(oldSize) and \(newSize)")
        }
        return MerkleProofs.consistencyProof(oldSize: oldSize, newSize: newSize, hash: stored)
    }

    private func checkSize(_ size: UInt64, _ what: String) throws(VouchKitError) {
        guard size <= self.size else {
            throw .malformedInput("the \(what) \(size) is larger than the tree, which has \(self.size) leaves")
        }
    }

    /// The hash of a stored perfect subtree.
    private func stored(_ node: MerkleNode) -> MerkleHash {
        levels[node.level][Int(node.index)]
    }
}
