import Foundation
import Synchronization
import VouchKit
import VouchCore
import VouchStore

/// The API keys operators and enforcement points use: made, checked, listed and revoked.
final class APIKeyService: Sendable {
    private let store: Store
    private let events: EventRecorder
    /// Live API keys by secret digest (see `authenticate(_:)`).
    private let cache = Mutex<[String: APIKeyRecord]>([:])

    init(store: Store, events: EventRecorder) {
        self.store = store
        self.events = events
    }

    /// Creates an API key; the secret is returned once and stored only as its digest.
    func create(name: String, scope: APIScope, actor: String) async throws -> (APIKeyRecord, secret: String) {
        guard !name.isEmpty, name.utf8.count <= 128 else {
            throw ServiceError.unprocessable("an API key needs a name of 1–128 bytes")
        }
        let secret = Secrets.make(prefix: "vk")
        let row = APIKeyRecord(
            id: Secrets.identifier("key", now: events.clock.now), name: name, scope: scope,
            secretHash: Secrets.digest(secret), createdAt: events.clock.seconds
        )
        try await store.transaction { session in
            try await session.apiKeys.insert(row)
            // The key's name and scope are for operators (GET /v1/admin/api-keys), not the public log.
            try await self.events.record(session, kind: .apiKeyCreated, subject: row.id, actor: actor)
        }
        return (row, secret)
    }

    /// The live key whose secret is `secret`, if any.
    ///
    /// Live keys are remembered by their digest, so that hot endpoints (`/v1/authorize`) do not
    /// read the database per request; a revocation forgets the key here at once, and on other
    /// nodes when they see its event (within the sequencer's interval).
    func authenticate(_ secret: String) async throws -> APIKeyRecord? {
        guard secret.hasPrefix("vk_"), secret.utf8.count < 128 else { return nil }
        let digest = Secrets.digest(secret)
        if let row = cache.withLock({ $0[digest] }) {
            return ConstantTime.equals(digest, row.secretHash) ? row : nil
        }
        guard let row = try await store.read({ try await $0.apiKeys.find(secretHash: digest) }), row.revokedAt == nil else { return nil }
        guard ConstantTime.equals(digest, row.secretHash) else { return nil }
        cache.withLock { cache in
            if cache.count >= 10_000 { cache.removeAll() }
            cache[digest] = row
        }
        return row
    }

    /// Forgets a revoked key.
    func forget(id: String) {
        cache.withLock { cache in cache = cache.filter { $0.value.id != id } }
    }

    func list() async throws -> [APIKeyRecord] {
        try await store.read { try await $0.apiKeys.all() }
    }

    /// Revokes a key. Refused (409) when it is the key making the request (revoke it with another
    /// admin key) or the last live admin key (nobody could then manage the authority).
    func revoke(id: String, actor: String) async throws {
        try await store.transaction { session in
            let live = try await session.apiKeys.liveForUpdate()
            if let target = live.first(where: { $0.id == id }) {
                guard actor != "apikey:\(id)" else {
                    throw ServiceError.conflict("a key cannot revoke itself; revoke \(id) with another admin key")
                }
                if target.scope == .admin, !live.contains(where: { $0.id != id && $0.scope == .admin }) {
                    throw ServiceError.conflict("\(id) is the last live admin key; create another admin key (POST /v1/admin/api-keys with \"scope\": \"admin\") before revoking it")
                }
            }
            guard try await session.apiKeys.revoke(id: id, at: self.events.clock.seconds) else {
                throw ServiceError.notFound("no live API key with id \(id)")
            }
            try await self.events.record(session, kind: .apiKeyRevoked, subject: id, actor: actor)
        }
        forget(id: id)
    }
}
