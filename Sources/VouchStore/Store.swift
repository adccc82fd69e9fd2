import SQLKit

/// The authority's records, over SQLite or PostgreSQL. Reads and writes go through `read`,
/// `write` and `transaction`, which hand the body a `StoreSession`; its repositories, one per
/// aggregate, are the only SQL the server runs.
package struct Store: Sendable {
    package let database: VouchDatabase

    package init(database: VouchDatabase) {
        self.database = database
    }

    /// Runs `body` in one transaction: everything it writes lands together or not at all.
    package func transaction<R: Sendable>(_ body: @escaping @Sendable (StoreSession) async throws -> R) async throws -> R {
        let marks = CounterMarks()
        let result = try await database.transaction { try await body(StoreSession(sql: $0, marks: marks)) }
        let advanced = marks.advanced
        if database.engine == .sqlite { database.committed(advancing: advanced) }
        if advanced.contains(.events) { database.eventsCommitted.pulse() }
        return result
    }

    /// Runs one statement that needs no transaction around it (it commits by itself).
    package func write<R: Sendable>(_ body: @escaping @Sendable (StoreSession) async throws -> R) async throws -> R {
        let marks = CounterMarks()
        let result = try await database.write { try await body(StoreSession(sql: $0, marks: marks)) }
        let advanced = marks.advanced
        if database.engine == .sqlite { database.committed(advancing: advanced) }
        if advanced.contains(.events) { database.eventsCommitted.pulse() }
        return result
    }

    /// Runs read-only `body`. Its statements are not one snapshot (see `VouchDatabase.read`).
    package func read<R: Sendable>(_ body: @escaping @Sendable (StoreSession) async throws -> R) async throws -> R {
        try await database.read { try await body(StoreSession(sql: $0)) }
    }

    /// Runs read-only `body` of a few reads by key on the caller's thread (see `VouchDatabase.readByKey`).
    package func readByKey<R: Sendable>(_ body: @escaping @Sendable (StoreSession) async throws -> R) async throws -> R {
        try await database.readByKey { try await body(StoreSession(sql: $0)) }
    }
}

/// One database session (inside a transaction, for writes), through its repositories.
package struct StoreSession: Sendable {
    let sql: any SQLDatabase
    /// On SQLite, where the counters this session advances are noted (see `CounterMarks`).
    var marks: CounterMarks? = nil

    package var counters: CounterRepository { CounterRepository(sql: sql, marks: marks) }
    package var events: EventRepository { EventRepository(sql: sql, marks: marks) }
    package var log: LogRepository { LogRepository(sql: sql) }
    package var nonces: NonceRepository { NonceRepository(sql: sql) }
    package var apiKeys: APIKeyRepository { APIKeyRepository(sql: sql) }
    package var policies: PolicyRepository { PolicyRepository(sql: sql) }
    package var firmware: FirmwareRepository { FirmwareRepository(sql: sql) }
    package var groups: GroupRepository { GroupRepository(sql: sql) }
    package var devices: DeviceRepository { DeviceRepository(sql: sql) }
    package var stepUps: StepUpRepository { StepUpRepository(sql: sql) }
    package var certificates: CertificateRepository { CertificateRepository(sql: sql) }
    package var credentials: CredentialRepository { CredentialRepository(sql: sql) }
    package var statusBits: StatusBitRepository { StatusBitRepository(sql: sql) }
    package var webhooks: WebhookRepository { WebhookRepository(sql: sql) }
    package var revocationFeed: RevocationFeedRepository { RevocationFeedRepository(sql: sql) }
}
