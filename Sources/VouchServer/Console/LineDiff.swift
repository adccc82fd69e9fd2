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

    init(old: String, new: String) {
        let before = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let after = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let difference = after.difference(from: before)
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
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
