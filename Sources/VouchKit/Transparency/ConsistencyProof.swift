/// A consistency proof (RFC 9162 §2.1.4): the hashes showing that a tree of an old size is a
/// prefix of a tree of a new size.
///
/// Verification follows RFC 9162 §2.1.4.2 in the form transparency-dev/merkle uses, and
/// hashes one node per proof entry twice at most, without other allocation.
public struct ConsistencyProof: Hashable, Sendable {
    /// The size of the older tree.
    public var oldSize: UInt64

    /// The size of the newer tree.
    public var newSize: UInt64

    /// The proof hashes, as RFC 9162 §2.1.4.1 orders them.
    public var hashes: [MerkleHash]

    /// Creates a proof from its parts; nothing is checked until it is used.
    public init(oldSize: UInt64, newSize: UInt64, hashes: [MerkleHash]) {
        self.oldSize = oldSize
        self.newSize = newSize
        self.hashes = hashes
    }

    /// Checks that the tree of ``oldSize`` with `oldRoot` is a prefix of the tree of ``newSize`` with `newRoot`.
    ///
    /// Equal sizes need an empty proof and equal roots.
    /// - Returns: `.valid`, or `.invalid` when the proof leads to other roots.
    /// - Throws: ``VouchKitError/malformedInput(_:)`` when the proof cannot be checked at all:
    ///   the old size is zero or larger than the new size, or the proof has the wrong length.
    public func verify(oldRoot: MerkleHash, newRoot: MerkleHash) throws(VouchKitError) -> MerkleProofVerdict {
        guard oldSize <= newSize else {
            throw .malformedInput("the old tree size \(oldSize) is larger than the new tree size \(newSize)")
        }
        guard oldSize > 0 else {
            throw .malformedInput("a consistency proof from an empty tree proves nothing; the old tree size must be at least 1")
        }
        if oldSize == newSize {
            guard hashes.isEmpty else {
                throw .malformedInput("a consistency proof between trees of the same size must be empty, but this one holds \(hashes.count) proof hashes")
            }
            return oldRoot == newRoot
                ? .valid
                : .invalid(reason: "the roots \(oldRoot) and \(newRoot) differ for the same tree size \(oldSize)")
        }

        // The proof is the tail of the inclusion proof of leaf oldSize-1 in the new tree, from the
        // level of the largest perfect subtree the old tree ends with; that subtree's hash comes
        // first unless it is the whole old tree (oldSize a power of two), when it is oldRoot.
        var (inner, border) = InclusionProof.decompose(index: oldSize - 1, size: newSize)
        let shift = oldSize.trailingZeroBitCount
        inner -= shift
        let startsWithOldRoot = oldSize == 1 << UInt64(shift)
        let start = startsWithOldRoot ? 0 : 1
        guard hashes.count == start + inner + border else {
            throw .malformedInput(
                "a consistency proof from tree size \(oldSize) to \(newSize) needs \(start + inner + border) proof hashes, not \(hashes.count)"
            )
        }
        let seed = startsWithOldRoot ? oldRoot : hashes[0]
        let mask = (oldSize - 1) >> UInt64(shift)

        var computedOld = seed
        var computedNew = seed
        for level in 0..<inner {
            let sibling = hashes[start + level]
            if (mask >> UInt64(level)) & 1 == 1 {
                computedOld = MerkleHash.nodeHash(sibling, computedOld)
                computedNew = MerkleHash.nodeHash(sibling, computedNew)
            } else {
                computedNew = MerkleHash.nodeHash(computedNew, sibling)
            }
        }
        for index in (start + inner)..<hashes.count {
            computedOld = MerkleHash.nodeHash(hashes[index], computedOld)
            computedNew = MerkleHash.nodeHash(hashes[index], computedNew)
        }

        guard computedOld == oldRoot else {
            return .invalid(reason: "computed old root \(computedOld) does not match the expected old root \(oldRoot)")
        }
        guard computedNew == newRoot else {
            return .invalid(reason: "computed new root \(computedNew) does not match the expected new root \(newRoot)")
        }
        return .valid
    }
}
