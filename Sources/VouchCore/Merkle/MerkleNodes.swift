import VouchKit

/// A stored node of an append-only Merkle tree: the root of the perfect subtree of 2^level leaves
/// that starts at leaf `index · 2^level`. Level 0 nodes are the leaf hashes. These are the hashes a
/// log keeps (the C2SP tlog-tiles hashes are the nodes of every eighth level).
public struct MerkleNode: Hashable, Sendable, CustomStringConvertible {
    public let level: Int
    public let index: UInt64

    public init(level: Int, index: UInt64) {
        self.level = level
        self.index = index
    }

    public var description: String { "(\(level), \(index))" }

    /// The nodes that appending leaf `leafIndex` completes, bottom-up: the leaf itself, then one
    /// node per level for as long as the new node is a right child.
    public static func completed(byLeaf leafIndex: UInt64) -> [MerkleNode] {
        var nodes = [MerkleNode(level: 0, index: leafIndex)]
        var level = 0
        var position = leafIndex
        while position & 1 == 1 {
            level += 1
            position >>= 1
            nodes.append(MerkleNode(level: level, index: position))
        }
        return nodes
    }
}

/// Roots and proofs (RFC 9162 §2.1) of an append-only tree computed from its stored nodes alone,
/// in two steps, so that a tree kept in a database costs one batched read per answer:
/// `…Nodes(…)` says which stored nodes an answer needs (O(log n) of them), and the matching
/// function builds the answer from their hashes. `MerkleTree` (in memory) and the transparency log
/// (in the database) share this code.
public enum MerkleProofs {
    /// The stored nodes that the root of the tree at `size` leaves is made of.
    public static func rootNodes(size: UInt64) -> [MerkleNode] {
        record { _ = try root(size: size, hash: $0) }
    }

    /// The root hash of the tree at `size` leaves.
    public static func root(size: UInt64, hash: (MerkleNode) throws -> MerkleHash) rethrows -> MerkleHash {
        size == 0 ? MerkleHash.emptyTreeRoot : try subtreeHash(start: 0, count: size, hash)
    }

    /// The stored nodes an inclusion proof of `leafIndex` in the tree at `treeSize` needs.
    public static func inclusionNodes(leafIndex: UInt64, treeSize: UInt64) -> [MerkleNode] {
        record { _ = try inclusionProof(leafIndex: leafIndex, treeSize: treeSize, hash: $0) }
    }

    /// The inclusion proof of the leaf at `leafIndex` in the tree at `treeSize` leaves (RFC 9162
    /// §2.1.3.1), for `leafIndex < treeSize`.
    public static func inclusionProof(
        leafIndex: UInt64, treeSize: UInt64, hash: (MerkleNode) throws -> MerkleHash
    ) rethrows -> InclusionProof {
        precondition(leafIndex < treeSize, "leaf index \(leafIndex) is not below the tree size \(treeSize)")
        var path: [MerkleHash] = []
        try inclusionPath(index: leafIndex, start: 0, count: treeSize, hash, into: &path)
        return InclusionProof(leafIndex: leafIndex, treeSize: treeSize, hashes: path)
    }

    /// The stored nodes a consistency proof from `oldSize` to `newSize` needs.
    public static func consistencyNodes(oldSize: UInt64, newSize: UInt64) -> [MerkleNode] {
        record { _ = try consistencyProof(oldSize: oldSize, newSize: newSize, hash: $0) }
    }

    /// The consistency proof from the tree at `oldSize` leaves to the tree at `newSize` leaves
    /// (RFC 9162 §2.1.4.1), for `0 < oldSize ≤ newSize`; empty when the sizes are equal.
    public static func consistencyProof(
        oldSize: UInt64, newSize: UInt64, hash: (MerkleNode) throws -> MerkleHash
    ) rethrows -> ConsistencyProof {
        precondition(oldSize > 0 && oldSize <= newSize, "a consistency proof needs 0 < old size ≤ new size")
        var proof: [MerkleHash] = []
        if oldSize < newSize {
            try subproof(oldCount: oldSize, start: 0, count: newSize, isWholeOldTree: true, hash, into: &proof)
        }
        return ConsistencyProof(oldSize: oldSize, newSize: newSize, hashes: proof)
    }

    /// Runs `body` with a hash source that records the nodes asked for (and answers a placeholder).
    private static func record(_ body: ((MerkleNode) throws -> MerkleHash) throws -> Void) -> [MerkleNode] {
        var nodes: [MerkleNode] = []
        var seen: Set<MerkleNode> = []
        try? body { node in
            if seen.insert(node).inserted { nodes.append(node) }
            return MerkleHash.emptyTreeRoot
        }
        return nodes
    }

    /// MTH(D[start ..< start+count]) for count ≥ 1. RFC 6962 splits at the largest power of two
    /// below the count, so every left part is a stored, aligned perfect subtree and only the right
    /// edge needs hashing.
    private static func subtreeHash(start: UInt64, count: UInt64, _ hash: (MerkleNode) throws -> MerkleHash) rethrows -> MerkleHash {
        if count & (count - 1) == 0 {
            let level = count.trailingZeroBitCount
            return try hash(MerkleNode(level: level, index: start >> level))
        }
        let split = largestPowerOfTwo(below: count)
        return MerkleHash.nodeHash(
            try subtreeHash(start: start, count: split, hash),
            try subtreeHash(start: start + split, count: count - split, hash)
        )
    }

    /// PATH(m, D[start ..< start+count]), appended bottom-up.
    private static func inclusionPath(
        index: UInt64, start: UInt64, count: UInt64, _ hash: (MerkleNode) throws -> MerkleHash, into path: inout [MerkleHash]
    ) rethrows {
        guard count > 1 else { return }
        let split = largestPowerOfTwo(below: count)
        if index < split {
            try inclusionPath(index: index, start: start, count: split, hash, into: &path)
            path.append(try subtreeHash(start: start + split, count: count - split, hash))
        } else {
            try inclusionPath(index: index - split, start: start + split, count: count - split, hash, into: &path)
            path.append(try subtreeHash(start: start, count: split, hash))
        }
    }

    /// SUBPROOF(m, D[start ..< start+count], b), appended bottom-up.
    private static func subproof(
        oldCount: UInt64, start: UInt64, count: UInt64, isWholeOldTree: Bool, _ hash: (MerkleNode) throws -> MerkleHash,
        into proof: inout [MerkleHash]
    ) rethrows {
        if oldCount == count {
            if !isWholeOldTree { proof.append(try subtreeHash(start: start, count: count, hash)) }
            return
        }
        let split = largestPowerOfTwo(below: count)
        if oldCount <= split {
            try subproof(oldCount: oldCount, start: start, count: split, isWholeOldTree: isWholeOldTree, hash, into: &proof)
            proof.append(try subtreeHash(start: start + split, count: count - split, hash))
        } else {
            try subproof(
                oldCount: oldCount - split, start: start + split, count: count - split, isWholeOldTree: false, hash, into: &proof)
            proof.append(try subtreeHash(start: start, count: split, hash))
        }
    }

    /// The largest power of two strictly below `count`, for count ≥ 2.
    private static func largestPowerOfTwo(below count: UInt64) -> UInt64 {
        1 << (UInt64.bitWidth - 1 - (count - 1).leadingZeroBitCount)
    }
}

/// The right edge of an append-only tree: the hashes of the perfect subtrees its leaves split into
/// (one per set bit of the size, largest first; the nodes `MerkleProofs.rootNodes(size:)` names).
/// It is all that appending needs: a log loads it once (O(log n) hashes) and then appends without
/// reading the tree again.
public struct MerkleFrontier: Sendable, Equatable {
    public private(set) var size: UInt64
    public private(set) var hashes: [MerkleHash]

    /// The frontier of the empty tree.
    public init() {
        size = 0
        hashes = []
    }

    /// The frontier of the tree at `size`, from the hashes of `MerkleProofs.rootNodes(size:)` in
    /// that order.
    public init(size: UInt64, hashes: [MerkleHash]) throws(VouchKitError) {
        guard hashes.count == size.nonzeroBitCount else {
            throw .malformedInput("a tree of \(size) leaves has \(size.nonzeroBitCount) frontier hashes, not \(hashes.count)")
        }
        self.size = size
        self.hashes = hashes
    }

    /// Appends a leaf and returns the nodes it completes with their hashes, bottom-up (the leaf
    /// first): what a log stores for it.
    @discardableResult
    public mutating func append(leafHash: MerkleHash) -> [(node: MerkleNode, hash: MerkleHash)] {
        var completed = [(node: MerkleNode(level: 0, index: size), hash: leafHash)]
        var hash = leafHash
        var level = 0
        var position = size
        while position & 1 == 1 {
            hash = MerkleHash.nodeHash(hashes.removeLast(), hash)
            level += 1
            position >>= 1
            completed.append((node: MerkleNode(level: level, index: position), hash: hash))
        }
        hashes.append(hash)
        size += 1
        return completed
    }

    /// The root hash of the tree.
    public var root: MerkleHash {
        guard var hash = hashes.last else { return MerkleHash.emptyTreeRoot }
        for left in hashes.dropLast().reversed() {
            hash = MerkleHash.nodeHash(left, hash)
        }
        return hash
    }
}
