import VouchCore
import VouchKit
import VouchStore

/// Devices as decisions need them: the in-memory directory in front of the store. Hot paths
/// (authorization, telemetry, authentication) read devices here.
final class DirectoryService: Sendable {
    private let store: Store
    private let directory: DeviceDirectory

    init(store: Store, capacity: Int = 200_000) {
        self.store = store
        self.directory = DeviceDirectory(capacity: capacity)
    }

    /// The entry for a device id or DID, from memory or the store; nil when unknown.
    func entry(_ reference: String) async throws -> DeviceDirectory.Entry? {
        let isDID = reference.hasPrefix("did:")
        if let id = isDID ? directory.id(did: reference) : reference, let entry = directory.entry(id: id) {
            return entry
        }
        let generation = directory.generation
        let found = try await store.read { session -> (DeviceRecord, String)? in
            let row = isDID ? try await session.devices.find(did: reference) : try await session.devices.find(id: reference)
            guard let row else { return nil }
            return (row, try await session.groups.find(id: row.groupId)?.name ?? "")
        }
        guard let (row, group) = found else { return nil }
        let entry = DeviceDirectory.Entry(
            row: row, state: row.state,
            facts: DeviceFacts(
                id: row.id, did: row.did, zone: row.zone, group: group, attributes: row.attributes, roles: row.roles,
                quarantined: row.state == .quarantined
            ),
            key: try PublicKey(jwk: row.publicKey)
        )
        directory.store(entry, readAt: generation)
        return entry
    }

    /// The subject of `entry` under `policy`, computed once per device and policy version.
    func subject(of entry: DeviceDirectory.Entry, under policy: CompiledPolicy) -> AuthorizationSubject {
        if let subject = entry.subject, entry.subjectVersion == policy.version { return subject }
        let subject = policy.subject(for: entry.facts)
        directory.remember(subject: subject, version: policy.version, for: entry.row.id, row: entry.row)
        return subject
    }

    /// Forgets a device that changed (here, or on another node).
    func invalidate(_ id: String) {
        directory.invalidate(id)
    }

    /// Forgets every device (the policy changed).
    func invalidateAll() {
        directory.invalidateAll()
    }
}
