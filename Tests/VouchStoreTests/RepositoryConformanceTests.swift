import Foundation
import Testing
import VouchCore
import VouchKit
import VouchStore
import VouchTesting

/// Every repository against every engine, as swift-configuration's `ProviderCompatTest` runs one
/// suite against every provider: the same checks, on SQLite and on a PostgreSQL the test starts.
@Suite("Store repositories on every engine")
struct RepositoryConformanceTests {
    @Test(
        arguments: StoreEngine.allCases.filter { $0 != .postgresql || TestPostgres.binaries != nil || ProcessInfo.processInfo.environment["CI"] != nil })
    func everyRepositoryBehavesTheSameOn(_ engine: StoreEngine) async throws {
        try await engine.withStore { store in
            let conformance = RepositoryConformance(store: store)
            try await conformance.counters()
            try await conformance.events()
            try await conformance.nonces()
            try await conformance.apiKeys()
            try await conformance.policies()
            try await conformance.groups()
            try await conformance.devices()
            try await conformance.stepUps()
            try await conformance.certificates()
            try await conformance.credentialsAndStatusBits()
            try await conformance.firmware()
            try await conformance.log()
            try await conformance.transactionsRollBack()
        }
    }
}

/// The checks, one per repository. Each writes its own records (ids do not collide across checks).
struct RepositoryConformance {
    let store: Store

    func counters() async throws {
        let start = try await store.read { try await $0.counters.current(.revocations) }
        let (first, second, advanced) = try await store.transaction { session in
            (try await session.counters.next(.revocations), try await session.counters.next(.revocations),
             try await session.counters.advance(.revocations, by: 10))
        }
        #expect(first == start + 1 && second == start + 2 && advanced == start + 12)
        #expect(try await store.read { try await $0.counters.current(.revocations) } == start + 12)
        // Migration 0009 made the status-list position key: 32 bytes, hex.
        let key = try #require(try await store.read { try await $0.counters.secret("status_index_key") })
        #expect(key.count == 64 && Hex.decode(key)?.count == 32)
        #expect(try await store.read { try await $0.counters.secret("no-such-secret") } == nil)
    }

    func events() async throws {
        let before = try await store.read { try await $0.counters.current(.events) }
        let appended = try await store.transaction { session in
            try await session.events.append([
                EventDraft(kind: .groupCreated, subject: "grp_events", actor: "system", data: ["name": "events", "n": 1]),
                EventDraft(kind: .deviceEnrolled, subject: "dev_events", actor: "device:dev_events", data: ["path": "a/b", "é": "ü"]),
            ], at: 1_800_000_100)
        }
        #expect(appended.map(\.seq) == [before + 1, before + 2])
        #expect(try await store.read { try await $0.counters.current(.events) } == before + 2)
        // The data is stored as canonical JSON and read back as the same text (the log hashes it).
        #expect(appended[1].dataText == #"{"path":"a/b","é":"ü"}"#)
        let read = try await store.read { try await $0.events.after(before, limit: 10) }
        #expect(read == appended)
        #expect(read[0].eventKind == .groupCreated && read[1].eventKind == .deviceEnrolled)
        #expect(try read[0].data() == ["name": "events", "n": 1])
        #expect(try await store.read { try await $0.events.after(before, limit: 1) }.map(\.seq) == [before + 1])
        let about = try await store.read { try await $0.events.about("dev_events", limit: 10) }
        #expect(about.map(\.seq) == [before + 2] && about[0].actor == "device:dev_events" && about[0].at == 1_800_000_100)
        let summaries = try await store.read { try await $0.events.summaries(after: before, limit: 10) }
        #expect(summaries == [
            EventSummary(seq: before + 1, kind: .groupCreated, subject: "grp_events"),
            EventSummary(seq: before + 2, kind: .deviceEnrolled, subject: "dev_events"),
        ])
        #expect(EventKind.deviceEnrolled.changesDevice && !EventKind.groupCreated.changesDevice)
    }

    func nonces() async throws {
        #expect(try await store.write { try await $0.nonces.spend(digest: "nonce-a", expiresAt: 100) })
        // A second spending of the same nonce is refused without failing the statement.
        #expect(try await store.write { try await $0.nonces.spend(digest: "nonce-a", expiresAt: 100) } == false)
        try await store.transaction { try await $0.nonces.spend([(digest: "nonce-b", expiresAt: 200), (digest: "nonce-c", expiresAt: 300)]) }
        let spent = try await store.read { try await $0.nonces.spent(digests: ["nonce-a", "nonce-b", "nonce-c", "nonce-d"]) }
        #expect(spent == ["nonce-a", "nonce-b", "nonce-c"])
        try await store.write { try await $0.nonces.purge(before: 200) }
        #expect(try await store.read { try await $0.nonces.spent(digests: ["nonce-a", "nonce-b", "nonce-c"]) } == ["nonce-c"])
        // The batch insert refuses a nonce spent already (its transaction then rolls back as a whole).
        let duplicate = await #expect(throws: (any Error).self) {
            try await store.transaction { try await $0.nonces.spend([(digest: "nonce-e", expiresAt: 400), (digest: "nonce-c", expiresAt: 300)]) }
        }
        #expect(duplicate.map(StoreError.isUniqueViolation) == true, "\(String(describing: duplicate))")
        #expect(try await store.read { try await $0.nonces.spent(digests: ["nonce-e"]) }.isEmpty)
    }

    func apiKeys() async throws {
        let keys = [
            APIKeyRecord(id: "key_1", name: "admin", scope: .admin, secretHash: "hash-1", createdAt: 10),
            APIKeyRecord(id: "key_2", name: "gate", scope: .gateway, secretHash: "hash-2", createdAt: 11),
        ]
        try await store.transaction { session in
            for key in keys { try await session.apiKeys.insert(key) }
        }
        #expect(try await store.read { try await $0.apiKeys.find(secretHash: "hash-2") } == keys[1])
        #expect(try await store.read { try await $0.apiKeys.find(secretHash: "hash-9") } == nil)
        #expect(try await store.read { try await $0.apiKeys.all() } == keys)
        #expect(try await store.write { try await $0.apiKeys.revoke(id: "key_2", at: 20) })
        #expect(try await store.write { try await $0.apiKeys.revoke(id: "key_2", at: 21) } == false)
        #expect(try await store.write { try await $0.apiKeys.revoke(id: "key_9", at: 21) } == false)
        #expect(try await store.transaction { try await $0.apiKeys.liveForUpdate() } == [keys[0]])
        #expect(try await store.read { try await $0.apiKeys.find(secretHash: "hash-2") }?.revokedAt == 20)
    }

    func policies() async throws {
        #expect(try await store.read { try await $0.policies.latest() } == nil)
        let first = PolicyRecord(version: 1, source: "zones: []\n", digest: "d1", createdAt: 5, actor: "apikey:key_1")
        let second = PolicyRecord(version: 2, source: "zones: [a]\n", digest: "d2", createdAt: 6, actor: "apikey:key_1")
        try await store.transaction { session in
            try await session.policies.insert(first)
            try await session.policies.insert(second)
        }
        #expect(try await store.read { try await $0.policies.latest() } == second)
        #expect(try await store.read { try await $0.policies.find(version: 1) } == first)
        #expect(try await store.read { try await $0.policies.find(version: 3) } == nil)
        #expect(try await store.read { try await $0.policies.versions(limit: 10) } == [
            PolicyVersionSummary(version: 2, digest: "d2", createdAt: 6, actor: "apikey:key_1"),
            PolicyVersionSummary(version: 1, digest: "d1", createdAt: 5, actor: "apikey:key_1"),
        ])
        // A version written meanwhile (by another node) is refused by the primary key.
        let duplicate = await #expect(throws: (any Error).self) { try await store.transaction { try await $0.policies.insert(first) } }
        #expect(duplicate.map(StoreError.isUniqueViolation) == true)
    }
}
