/// A count that goes on across a benchmark's iterations.
final class Counter {
    private var value = 0

    /// The current count, then one more.
    func next() -> Int {
        defer { value += 1 }
        return value
    }
}
