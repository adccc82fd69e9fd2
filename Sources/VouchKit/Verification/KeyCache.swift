import Synchronization

/// Keys already resolved for a `kid`, so hot paths skip DID resolution and point decompression.
/// Only keys whose binding cannot change are cached: did:key keys and trust-bundle keys.
final class KeyCache: Sendable {
    private let storage = Mutex<[String: PublicKey]>([:])
    private let capacity: Int

    init(capacity: Int = 65_536) {
        self.capacity = capacity
    }

    func key(for kid: String) -> PublicKey? {
        storage.withLock { $0[kid] }
    }

    func insert(_ key: PublicKey, for kid: String) {
        storage.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[kid] = key
        }
    }
}
