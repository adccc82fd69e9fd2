import Testing
import VouchCore
import VouchKit

/// Proofs built from stored nodes only, as the database-backed log builds them.
@Suite struct MerkleNodesTests {
    /// Whether `node` is stored once the tree has `size` leaves.
    func exists(_ node: MerkleNode, size: UInt64) -> Bool {
        (node.index + 1) << UInt64(node.level) <= size
    }

    @Test("roots and proofs need only nodes that exist, and the nodes named give the same answers")
    func plannedNodesSuffice() throws {
        var tree = MerkleTree()
        var stored: [MerkleNode: MerkleHash] = [:]
        for index in 0..<70 {
            let leaf = MerkleHash.leafHash([UInt8(index)])
            tree.append(leafHash: leaf)
            // What appending completes is what a log stores.
            var hash = leaf
            for node in MerkleNode.completed(byLeaf: UInt64(index)) {
                if node.level > 0 {
                    hash = MerkleHash.nodeHash(try #require(stored[MerkleNode(level: node.level - 1, index: node.index * 2)]), hash)
                }
                stored[node] = hash
            }
        }
        for size in UInt64(1)...70 {
            let nodes = MerkleProofs.rootNodes(size: size)
            #expect(nodes.allSatisfy { exists($0, size: size) })
            #expect(nodes.count == size.nonzeroBitCount)
            let only = Dictionary(uniqueKeysWithValues: nodes.map { ($0, stored[$0]!) })
            #expect(MerkleProofs.root(size: size) { only[$0]! } == (try tree.rootHash(size: size)))
            for leaf in 0..<size {
                let needed = MerkleProofs.inclusionNodes(leafIndex: leaf, treeSize: size)
                #expect(needed.allSatisfy { exists($0, size: size) })
                let proof = MerkleProofs.inclusionProof(leafIndex: leaf, treeSize: size) { node in stored[node]! }
                #expect(proof == (try tree.inclusionProof(leafIndex: leaf, treeSize: size)))
            }
            for old in UInt64(1)...size {
                let needed = MerkleProofs.consistencyNodes(oldSize: old, newSize: size)
                #expect(needed.allSatisfy { exists($0, size: size) })
                let subset = Dictionary(uniqueKeysWithValues: needed.map { ($0, stored[$0]!) })
                let proof = MerkleProofs.consistencyProof(oldSize: old, newSize: size) { subset[$0]! }
                #expect(try proof.verify(oldRoot: tree.rootHash(size: old), newRoot: tree.rootHash(size: size)) == .valid)
            }
        }
    }

    @Test("a proof in a tree of a million leaves needs at most 2·log2 n stored nodes")
    func proofsStayLogarithmic() {
        let size: UInt64 = 1_000_000
        #expect(MerkleProofs.inclusionNodes(leafIndex: 123_457, treeSize: size).count <= 40)
        #expect(MerkleProofs.consistencyNodes(oldSize: 999_999, newSize: size).count <= 40)
        #expect(MerkleProofs.rootNodes(size: size).count == size.nonzeroBitCount)
    }

    @Test("tile paths follow C2SP tlog-tiles, and only the canonical spelling reads")
    func tilePaths() throws {
        #expect(LogTile(level: 0, index: 0).path == "tile/0/000")
        #expect(LogTile(level: 0, index: 1_234_067).path == "tile/0/x001/x234/067")
        #expect(LogTile(level: 2, index: 1_234_067, width: 8).path == "tile/2/x001/x234/067.p/8")
        #expect(LogTile(level: nil, index: 1000, width: 1).path == "tile/entries/x001/000.p/1")
        for tile in [LogTile(level: 0, index: 0), LogTile(level: 3, index: 999, width: 255), LogTile(level: nil, index: 1_000_000, width: 17)] {
            #expect(LogTile(path: tile.path) == tile)
        }
        for bad in [
            "tile/0/1", "tile/0/0000", "tile/0/x000/001", "tile/9/000", "tile/00/000", "tile/0/000.p/256", "tile/0/000.p/0",
            "tile/0/000.p/007", "tile/0/x001", "tile/0/001/002", "tile/data/000", "tiles/0/000", "tile/0/", "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
        ] {
            #expect(LogTile(path: bad) == nil, "\(bad)")
        }
    }

    @Test("a tile is full, partial or absent depending on the tree size; it holds the nodes of every eighth level")
    func tilesOfATree() {
        #expect(LogTile.current(level: 0, index: 0, treeSize: 300) == LogTile(level: 0, index: 0))
        #expect(LogTile.current(level: 0, index: 1, treeSize: 300) == LogTile(level: 0, index: 1, width: 44))
        #expect(LogTile.current(level: 0, index: 2, treeSize: 300) == nil)
        #expect(LogTile.current(level: 1, index: 0, treeSize: 300) == LogTile(level: 1, index: 0, width: 1))
        #expect(LogTile.current(level: nil, index: 1, treeSize: 300)?.entryRange == 256..<300)
        #expect(LogTile(level: 1, index: 2, width: 2).nodes == [MerkleNode(level: 8, index: 512), MerkleNode(level: 8, index: 513)])
    }

    @Test("the frontier appends as the tree does, stores what the proofs read, and reloads from the root nodes")
    func frontier() throws {
        var tree = MerkleTree()
        var frontier = MerkleFrontier()
        var stored: [MerkleNode: MerkleHash] = [:]
        #expect(frontier.root == MerkleHash.emptyTreeRoot)
        for index in 0..<300 {
            let leaf = MerkleHash.leafHash(Array("entry \(index)".utf8))
            tree.append(leafHash: leaf)
            let completed = frontier.append(leafHash: leaf)
            #expect(completed.map(\.node) == MerkleNode.completed(byLeaf: UInt64(index)))
            for (node, hash) in completed { stored[node] = hash }
            #expect(frontier.root == (try tree.rootHash()))
            // A frontier loaded from the stored root nodes is the same frontier.
            let size = UInt64(index + 1)
            let reloaded = try MerkleFrontier(size: size, hashes: MerkleProofs.rootNodes(size: size).map { stored[$0]! })
            #expect(reloaded == frontier)
        }
        #expect(throws: VouchKitError.self) { try MerkleFrontier(size: 3, hashes: [MerkleHash.emptyTreeRoot]) }
    }
}
