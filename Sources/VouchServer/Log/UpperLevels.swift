import VouchCore
import VouchKit

/// The hashes of the stored tree's upper levels, kept in memory so that a proof reads from the
/// database only the few nodes below them (and, for inclusion, the entry).
///
/// A stored node never changes, so a level is kept as the run of its nodes from index 0, 32 bytes
/// each with nothing around them: from level 4 up that is 4 bytes per entry of the log (4 MB at a
/// million entries). The lowest level kept rises with the log so that the whole stays within
/// `budget` bytes; a proof needs about as many nodes from the database as there are levels below.
/// Nodes come from the sequencer as it stores them and from `missing(storedSize:)` reads (a start,
/// another node's appends), each level filled in order: a node past the end of its level's run is
/// left for the next read.
struct UpperLevels: Sendable {
    /// The lowest level ever kept: below it a level's nodes are too many for their worth.
    static let floorLevel = 4
    /// At most this many bytes of hashes.
    let budget: Int
    /// The lowest level kept now.
    private(set) var lowest: Int
    /// `runs[l]` holds level `lowest + l` from index 0.
    private var runs: [[MerkleHash]] = []

    init(budget: Int = 64 << 20) {
        self.budget = budget
        lowest = Self.floorLevel
    }

    /// The hash of `node`, if kept.
    func hash(of node: MerkleNode) -> MerkleHash? {
        let position = node.level - lowest
        guard position >= 0, position < runs.count, node.index < UInt64(runs[position].count) else { return nil }
        return runs[position][Int(node.index)]
    }

    /// How many nodes of `level` are kept (from index 0).
    func count(level: Int) -> UInt64 {
        let position = level - lowest
        guard position >= 0, position < runs.count else { return 0 }
        return UInt64(runs[position].count)
    }

    /// The `count` hashes of `level` from index `first`, if all are kept.
    func hashes(level: Int, from first: UInt64, count: Int) -> ArraySlice<MerkleHash>? {
        let position = level - lowest
        guard position >= 0, position < runs.count, first + UInt64(count) <= UInt64(runs[position].count) else { return nil }
        return runs[position][Int(first)..<Int(first) + count]
    }

    /// Keeps those of `nodes` that continue their level's run; the others are left for a read.
    mutating func add(_ nodes: some Sequence<(node: MerkleNode, hash: MerkleHash)>) {
        for (node, hash) in nodes where node.level >= lowest {
            let position = node.level - lowest
            while runs.count <= position { runs.append([]) }
            if node.index == UInt64(runs[position].count) { runs[position].append(hash) }
        }
    }

    /// Keeps `hashes`, the nodes of `level` from index `first`, if they continue its run.
    mutating func add(level: Int, from first: UInt64, _ hashes: [MerkleHash]) {
        guard level >= lowest else { return }
        let position = level - lowest
        while runs.count <= position { runs.append([]) }
        guard first == UInt64(runs[position].count) else { return }
        runs[position].append(contentsOf: hashes)
    }

    /// For a stored tree of `storedSize` entries: raises the lowest level kept while the levels
    /// would pass the budget, and returns the first run of nodes not yet kept, as (level, first
    /// index, count), at most `limit` of them; nil when every level is complete.
    mutating func missing(storedSize: UInt64, limit: Int) -> (level: Int, first: UInt64, count: Int)? {
        while Self.bytes(storedSize: storedSize, from: lowest) > UInt64(budget) {
            if !runs.isEmpty { runs.removeFirst() }
            lowest += 1
        }
        var level = lowest
        while storedSize >> UInt64(level) > 0 {
            let stored = storedSize >> UInt64(level)
            let kept = count(level: level)
            if kept < stored { return (level, kept, Int(min(stored - kept, UInt64(limit)))) }
            level += 1
        }
        return nil
    }

    /// The bytes the complete levels from `level` up take for a tree of `size` entries.
    static func bytes(storedSize size: UInt64, from level: Int) -> UInt64 {
        var total: UInt64 = 0
        var nodes = size >> UInt64(level)
        while nodes > 0 {
            total += nodes * UInt64(MerkleHash.byteCount)
            nodes >>= 1
        }
        return total
    }
}
