/// The lines two texts share and those one has and the other not, in order: what the console
/// shows between two policy versions.
struct LineDiff: Sendable {
    enum Change: String, Sendable {
        case same = " ", removed = "-", added = "+"
    }

    struct Line: Sendable {
        var change: Change
        var text: String
        /// Its number in the old text (same, removed) or the new (added).
        var number: Int
    }

    let lines: [Line]

    /// The most lines compared between what the texts share at their start and end: the
    /// comparison's cost grows with the square of the lines that differ.
    static let limit = 2_000

    /// Compares the texts, or throws when more than `limit` lines lie between what they share at
    /// their start and at their end.
    init(old: String, new: String) throws {
        let before = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let after = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var head = 0
        while head < before.count, head < after.count, before[head] == after[head] { head += 1 }
        var tail = 0
        while tail < before.count - head, tail < after.count - head, before[before.count - 1 - tail] == after[after.count - 1 - tail] { tail += 1 }
        guard before.count - head - tail <= Self.limit, after.count - head - tail <= Self.limit else {
            throw ServiceError.unprocessable(
                "the versions differ over more than \(Self.limit) lines; compare them offline (vouch policy show --version N, then diff)")
        }
        let difference = after[head..<(after.count - tail)].difference(from: before[head..<(before.count - tail)])
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(head + offset)
            case .insert(let offset, _, _): inserted.insert(head + offset)
            }
        }
        var lines: [Line] = []
        var (i, j) = (0, 0)
        while i < before.count || j < after.count {
            if i < before.count, removed.contains(i) {
                lines.append(Line(change: .removed, text: before[i], number: i + 1))
                i += 1
            } else if j < after.count, inserted.contains(j) {
                lines.append(Line(change: .added, text: after[j], number: j + 1))
                j += 1
            } else if i < before.count, j < after.count {
                lines.append(Line(change: .same, text: before[i], number: i + 1))
                i += 1
                j += 1
            } else {
                break
            }
        }
        self.lines = lines
    }

    /// Whether the texts differ at all.
    var changed: Bool { lines.contains { $0.change != .same } }
}
