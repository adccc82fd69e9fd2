import Synchronization

/// JSON columns decoded once per distinct text. Reads on hot paths (a device on every request it
/// makes, a group on every enrollment) would otherwise run the JSON decoder on the same few texts
/// again and again. The text is the key, so a changed row is decoded afresh and nothing needs
/// invalidating; past `capacity` texts the cache is emptied and fills again with what is read.
final class DecodedColumns<Value: Decodable & Sendable>: Sendable {
    private let cache = Mutex<[String: Value]>([:])
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The value `text` holds; `column` names it in the error when it is not `Value` as JSON.
    func decode(_ text: String, column: @autoclosure () -> String) throws -> Value {
        if let value = cache.withLock({ $0[text] }) { return value }
        let value = try StoredJSON.decode(Value.self, from: text, column: column())
        cache.withLock { cache in
            if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            cache[text] = value
        }
        return value
    }
}
