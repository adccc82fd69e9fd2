import Foundation
import Testing
import VouchCore
import VouchKit

/// The tree builder against the VouchKit verifiers and the RFC 6962 reference values.
@Suite struct MerkleTreeTests {
    /// Leaf inputs of the RFC 6962 / transparency-dev reference tree.
    static let referenceLeaves: [[UInt8]] = [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
    ]

    /// Roots of the first 1…8 leaves of the reference tree.
    static let referenceRoots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test func rootsMatchTheReferenceTree() throws {
        var tree = MerkleTree()
        #expect(try tree.rootHash() == MerkleHash.emptyTreeRoot)
        for (index, leaf) in Self.referenceLeaves.enumerated() {
            #expect(tree.append(leaf) == UInt64(index))
            #expect(try tree.rootHash().description == Self.referenceRoots[index])
        }
        for size in 1...8 {
            #expect(try tree.rootHash(size: UInt64(size)).description == Self.referenceRoots[size - 1])
        }
    }

    @Test func everyProofVerifiesForRandomSizes() throws {
        var generator = SystemRandomNumberGenerator()
        var sizes = Set((1...40).map { _ in Int.random(in: 1...200, using: &generator) })
        sizes.formUnion([1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 200])
        for size in sizes.sorted() {
            var tree = MerkleTree()
            for index in 0..<size {
                tree.append(Array("entry \(index) of \(size)".utf8))
            }
            try checkTree(tree, size: UInt64(size))
        }
    }

    @Test func allProofsUpToSixtyFourLeaves() throws {
        var tree = MerkleTree()
        for index in 0..<64 {
            tree.append([UInt8(index)])
        }
        try checkTree(tree, size: 64)
    }

    @Test func outOfRangeRequestsThrow() throws {
        var tree = MerkleTree()
        tree.append([1])
        tree.append([2])
        #expect(throws: VouchKitError.self) { try tree.rootHash(size: 3) }
        #expect(throws: VouchKitError.self) { try tree.inclusionProof(leafIndex: 2, treeSize: 2) }
        #expect(throws: VouchKitError.self) { try tree.inclusionProof(leafIndex: 0, treeSize: 3) }
        #expect(throws: VouchKitError.self) { try tree.consistencyProof(oldSize: 0, newSize: 2) }
        #expect(throws: VouchKitError.self) { try tree.consistencyProof(oldSize: 2, newSize: 1) }
        #expect(throws: VouchKitError.self) { try tree.consistencyProof(oldSize: 1, newSize: 3) }
        #expect(try tree.consistencyProof(oldSize: 2, newSize: 2).hashes.isEmpty)
    }

    /// Checks roots, every inclusion proof and every consistency proof of `tree` at `size`.
    private func checkTree(_ tree: MerkleTree, size: UInt64) throws {
        let leaves = Array(tree.leafHashes.prefix(Int(size)))
        let root = try tree.rootHash(size: size)
        #expect(root == MerkleHash.root(ofLeafHashes: leaves))

        for index in 0..<size {
            let proof = try tree.inclusionProof(leafIndex: index, treeSize: size)
            let leaf = leaves[Int(index)]
            #expect(try proof.verify(leafHash: leaf, rootHash: root) == .valid, "leaf \(index) of \(size)")
            #expect(try proof.verify(leafHash: Self.flipped(leaf), rootHash: root) != .valid)
            #expect(try proof.verify(leafHash: leaf, rootHash: Self.flipped(root)) != .valid)
            for position in proof.hashes.indices {
                var bad = proof
                bad.hashes[position] = Self.flipped(bad.hashes[position])
                #expect(try bad.verify(leafHash: leaf, rootHash: root) != .valid)
            }
        }

        for oldSize in 1...size {
            let oldRoot = try tree.rootHash(size: oldSize)
            let proof = try tree.consistencyProof(oldSize: oldSize, newSize: size)
            #expect(try proof.verify(oldRoot: oldRoot, newRoot: root) == .valid, "\(oldSize) to \(size)")
            #expect(try proof.verify(oldRoot: Self.flipped(oldRoot), newRoot: root) != .valid)
            #expect(try proof.verify(oldRoot: oldRoot, newRoot: Self.flipped(root)) != .valid)
            for position in proof.hashes.indices {
                var bad = proof
                bad.hashes[position] = Self.flipped(bad.hashes[position])
                #expect(try bad.verify(oldRoot: oldRoot, newRoot: root) != .valid)
            }
        }
    }

    /// `hash` with one random bit flipped.
    private static func flipped(_ hash: MerkleHash) -> MerkleHash {
        var bytes = hash.bytes
        let bit = Int.random(in: 0..<(8 * bytes.count))
        bytes[bit / 8] ^= 1 << UInt8(bit % 8)
        return try! MerkleHash(bytes: bytes)
    }
}
