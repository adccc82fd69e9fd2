import Synchronization
import VouchCore
import VouchKit
import VouchStore

/// Devices as decisions need them, in memory: the hot paths (authorization, telemetry) read here,
/// the database stays the truth. An entry is dropped when its device changes (on this node at once,
/// on other nodes when they see the change's event), and the whole table when the policy changes.
final class DeviceDirectory: Sendable {
    struct Entry: Sendable {
        let row: DeviceRecord
        let state: DeviceState
        let facts: DeviceFacts
        /// The device's public key, parsed once.
        let key: PublicKey
        /// The subject under `subjectVersion`, computed on first use.
        var subject: AuthorizationSubject?
        var subjectVersion: Int = -1
    }

    private struct Table {
        var byID: [String: Entry] = [:]
        var idByDID: [String: String] = [:]
        /// Moves with every invalidation, so that a read begun before one is not cached after it.
        var generation = 0
    }

    private let table = Mutex(Table())
    /// The most devices held; past it, the table is emptied and fills again with what is used.
    let capacity: Int

    init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    func entry(id: String) -> Entry? {
        table.withLock { $0.byID[id] }
    }

    func id(did: String) -> String? {
        table.withLock { $0.idByDID[did] }
    }

    /// The generation to pass to `store` after reading a device from the database.
    var generation: Int { table.withLock { $0.generation } }

    /// Caches `entry`, unless something was invalidated since `generation` was read.
    func store(_ entry: Entry, readAt generation: Int) {
        table.withLock { table in
            guard table.generation == generation else { return }
            if table.byID.count >= capacity {
                table.byID.removeAll(keepingCapacity: true)
                table.idByDID.removeAll(keepingCapacity: true)
            }
            table.byID[entry.row.id] = entry
            table.idByDID[entry.row.did] = entry.row.id
        }
    }

    /// Keeps a computed subject with the entry, if the entry is still the one cached.
    func remember(subject: AuthorizationSubject, version: Int, for id: String, row: DeviceRecord) {
        table.withLock { table in
            guard var entry = table.byID[id], entry.row == row else { return }
            entry.subject = subject
            entry.subjectVersion = version
            table.byID[id] = entry
        }
    }

    func invalidate(_ id: String) {
        table.withLock { table in
            table.generation &+= 1
            if let entry = table.byID.removeValue(forKey: id) {
                table.idByDID.removeValue(forKey: entry.row.did)
            }
        }
    }

    func invalidateAll() {
        table.withLock { table in
            table.generation &+= 1
            table.byID.removeAll()
            table.idByDID.removeAll()
        }
    }
}
