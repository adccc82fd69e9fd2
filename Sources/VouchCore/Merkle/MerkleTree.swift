import Foundation
import VouchKit

/// An append-only, in-memory RFC 6962 Merkle tree that produces roots and proofs for any past size.
///
/// It keeps every complete subtree hash, level by level, so a root, an inclusion proof
/// (RFC 9162 §2.1.3.1) or a consistency proof (RFC 9162 §2.1.4.1) costs O(log n) hash lookups
/// and at most O(log n) node hashes, for the current size or any earlier one.
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
        return size == 0 ? MerkleHash.emptyTreeRoot : subtreeHash(start: 0, count: Int(size))
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
        var path: [MerkleHash] = []
        inclusionPath(index: Int(leafIndex), start: 0, count: Int(treeSize), into: &path)
        return InclusionProof(leafIndex: leafIndex, treeSize: treeSize, hashes: path)
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
        var proof: [MerkleHash] = []
        if oldSize < newSize {
            subproof(oldCount: Int(oldSize), start: 0, count: Int(newSize), isWholeOldTree: true, into: &proof)
        }
        return ConsistencyProof(oldSize: oldSize, newSize: newSize, hashes: proof)
    }

    private func checkSize(_ size: UInt64, _ what: String) throws(VouchKitError) {
        guard size <= self.size else {
            throw .malformedInput("the \(what) \(size) is larger than the tree, which has \(self.size) leaves")
        }
    }

    /// MTH(D[start ..< start+count]) for count ≥ 1, from the stored perfect subtrees.
    ///
    /// RFC 6962 splits at the largest power of two below the count, so every left part is a
    /// stored, aligned perfect subtree and only the right edge needs hashing.
    private func subtreeHash(start: Int, count: Int) -> MerkleHash {
        if count & (count - 1) == 0 {
            let level = count.trailingZeroBitCount
            return levels[level][start >> level]
        }
        let split = Self.largestPowerOfTwo(below: count)
        return MerkleHash.nodeHash(
            subtreeHash(start: start, count: split),
            subtreeHash(start: start + split, count: count - split)
        )
    }

    /// PATH(m, D[start ..< start+count]), appended bottom-up.
    private func inclusionPath(index: Int, start: Int, count: Int, into path: inout [MerkleHash]) {
        guard count > 1 else { return }
        let split = Self.largestPowerOfTwo(below: count)
        if index < split {
            inclusionPath(index: index, start: start, count: split, into: &path)
            path.append(subtreeHash(start: start + split, count: count - split))
        } else {
            inclusionPath(index: index - split, start: start + split, count: count - split, into: &path)
            path.append(subtreeHash(start: start, count: split))
        }
    }

    /// SUBPROOF(m, D[start ..< start+count], b), appended bottom-up.
    private func subproof(oldCount: Int, start: Int, count: Int, isWholeOldTree: Bool, into proof: inout [MerkleHash]) {
        if oldCount == count {
            if !isWholeOldTree { proof.append(subtreeHash(start: start, count: count)) }
            return
        }
        let split = Self.largestPowerOfTwo(below: count)
        if oldCount <= split {
            subproof(oldCount: oldCount, start: start, count: split, isWholeOldTree: isWholeOldTree, into: &proof)
            proof.append(subtreeHash(start: start + split, count: count - split))
        } else {
            subproof(oldCount: oldCount - split, start: start + split, count: count - split, isWholeOldTree: false, into: &proof)
            proof.append(subtreeHash(start: start, count: split))
        }
    }

    /// The largest power of two strictly below `count`, for count ≥ 2.
    private static func largestPowerOfTwo(below count: Int) -> Int {
        1 << (Int.bitWidth - 1 - (count - 1).leadingZeroBitCount)
    }
}
