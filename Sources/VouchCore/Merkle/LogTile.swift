/// A tile of the C2SP tlog-tiles layout (https://c2sp.org/tlog-tiles): tile level L holds the
/// hashes of tree level 8·L, 256 to a tile; tile N of level L holds the nodes N·256 ..< N·256+W
/// of that tree level. A tile is full (W = 256) or partial (the right edge of a tree whose size
/// does not fill it). Tiles of level `entries` hold the log's entries instead of hashes.
public struct LogTile: Hashable, Sendable, CustomStringConvertible {
    /// Tree levels per tile level.
    public static let height = 8
    /// Hashes (or entries) in a full tile.
    public static let fullWidth = 256

    /// The tile level; nil for an entry bundle (`tile/entries/…`).
    public let level: Int?
    public let index: UInt64
    /// 1…256.
    public let width: Int

    public init(level: Int?, index: UInt64, width: Int = LogTile.fullWidth) {
        precondition(width >= 1 && width <= Self.fullWidth, "a tile holds 1 to 256 items")
        self.level = level
        self.index = index
        self.width = width
    }

    /// The URL path below the log's prefix: `tile/L/N[.p/W]` or `tile/entries/N[.p/W]`, with N
    /// in groups of three digits, all but the last prefixed with `x` (1234067 → `x001/x234/067`).
    public var path: String {
        var path = "tile/" + (level.map(String.init) ?? "entries") + "/" + Self.encode(index)
        if width < Self.fullWidth { path += ".p/\(width)" }
        return path
    }

    public var description: String { path }

    /// The tree nodes a hash tile holds, in order (none for an entry bundle).
    public var nodes: [MerkleNode] {
        guard let level else { return [] }
        let first = index * UInt64(Self.fullWidth)
        return (0..<UInt64(width)).map { MerkleNode(level: level * Self.height, index: first + $0) }
    }

    /// The entry indexes an entry bundle holds.
    public var entryRange: Range<UInt64> {
        let first = index * UInt64(Self.fullWidth)
        return first..<first + UInt64(width)
    }

    /// Reads a tile path (as `path` writes it, and only so: every path names one tile). Nil for
    /// anything else.
    public init?(path: some StringProtocol) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0] == "tile" else { return nil }
        let level: Int?
        if parts[1] == "entries" {
            level = nil
        } else {
            // Tree levels stop at 64 (sizes are 64-bit): tile levels 0…8.
            guard parts[1].count == 1, let value = Int(parts[1]), value <= 8 else { return nil }
            level = value
        }
        var indexParts = Array(parts[2...])
        var width = Self.fullWidth
        if indexParts.count >= 2, let last = indexParts.last, indexParts[indexParts.count - 2].hasSuffix(".p") {
            guard let value = Int(last), value >= 1, value < Self.fullWidth, String(value) == last else { return nil }
            width = value
            indexParts.removeLast()
            indexParts[indexParts.count - 1] = indexParts[indexParts.count - 1].dropLast(2)
        }
        var index: UInt64 = 0
        for (position, part) in indexParts.enumerated() {
            let isLast = position == indexParts.count - 1
            let digits = isLast ? part : (part.first == "x" ? part.dropFirst() : "")
            guard digits.count == 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt64(digits) else { return nil }
            let (scaled, overflow) = index.multipliedReportingOverflow(by: 1000)
            let (sum, carry) = scaled.addingReportingOverflow(value)
            guard !overflow, !carry else { return nil }
            index = sum
        }
        // Every item of the tile must have a 64-bit index.
        guard index < UInt64.max / UInt64(Self.fullWidth) else { return nil }
        self.init(level: level, index: index, width: width)
        // Only the canonical spelling (no superfluous leading groups) names the tile.
        guard self.path == path else { return nil }
    }

    /// The tile of `level` (nil: entries) and `index` as it stands in the tree at `treeSize`: full,
    /// partial, or nil when the tree has nothing in it yet.
    public static func current(level: Int?, index: UInt64, treeSize: UInt64) -> LogTile? {
        let itemsAtLevel = level.map { treeSize >> UInt64($0 * height) } ?? treeSize
        let (first, overflow) = index.multipliedReportingOverflow(by: UInt64(fullWidth))
        guard !overflow, itemsAtLevel > first else { return nil }
        return LogTile(level: level, index: index, width: Int(min(UInt64(fullWidth), itemsAtLevel - first)))
    }

    private static func encode(_ index: UInt64) -> String {
        var groups: [String] = []
        var rest = index
        repeat {
            let group = String(rest % 1000)
            groups.append(String(repeating: "0", count: 3 - group.count) + group)
            rest /= 1000
        } while rest > 0
        return groups.reversed().enumerated().map { position, group in
            position == groups.count - 1 ? group : "x" + group
        }.joined(separator: "/")
    }
}
