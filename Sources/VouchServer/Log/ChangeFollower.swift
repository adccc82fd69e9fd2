import Synchronization
import VouchCore
import VouchStore

/// Takes up changes made by other nodes sharing the database, by following the events they
/// commit: drops changed devices from the directory, retires revoked and decommissioned devices from
/// monitoring, forgets revoked API keys, and loads a newer policy. Runs in the database service's loop.
final class ChangeFollower: Sendable {
    private let store: Store
    private let directory: DirectoryService
    private let apiKeys: APIKeyService
    private let policy: PolicyService
    private let monitoring: MonitoringService
    /// The last event whose changes have been taken up.
    private let followed = Mutex(0)

    init(store: Store, directory: DirectoryService, apiKeys: APIKeyService, policy: PolicyService, monitoring: MonitoringService) {
        self.monitoring = monitoring
        self.store = store
        self.directory = directory
        self.apiKeys = apiKeys
        self.policy = policy
    }

    /// Loads the policy in force, at start. The event counter is read first: a policy change
    /// landing between the two reads is then seen again by `follow()`, never skipped.
    func start() async throws {
        let lastEvent = try await store.read { try await $0.counters.current(.events) }
        followed.withLock { if $0 == 0 { $0 = lastEvent } }
        try await policy.load()
    }

    /// Takes up the events committed since the last call.
    func follow() async throws {
        let after = followed.withLock { $0 }
        let events = try await store.read { try await $0.events.summaries(after: after, limit: 10_000) }
        guard let last = events.last else { return }
        var policyChanged = false
        for event in events {
            guard let kind = event.kind else {
                // A kind this version does not know (a newer node wrote it): drop what the subject
                // names, in case it is a device.
                directory.invalidate(event.subject)
                continue
            }
            if kind == .policyUpdated {
                policyChanged = true
            } else if kind.changesDevice {
                directory.invalidate(event.subject)
                if kind == .deviceRevoked || kind == .deviceDecommissioned { monitoring.retire(event.subject) }
            } else if kind == .apiKeyRevoked {
                apiKeys.forget(id: event.subject)
            }
        }
        if policyChanged { try await policy.load() }
        followed.withLock { $0 = max($0, last.seq) }
        // Other nodes' events (and this one's, seen again): event streams look.
        store.database.eventsCommitted.pulse()
    }
}
