import SQLKit

/// Spent nonces: a nonce is single-use because its digest is inserted here, in the transaction of
/// the change it authorizes, under a primary key.
package struct NonceRepository: Sendable {
    let sql: any SQLDatabase

    /// The digests among `digests` of nonces already spent.
    package func spent(digests: [String]) async throws -> Set<String> {
        guard !digests.isEmpty else { return [] }
        // Written as text: every enrollment asks twice (see `SQLSupport`).
        return Set(try await sql.raw(#"SELECT "digest" FROM "spent_nonces" WHERE "digest" IN (\#(binds: digests))"#).all()
            .map { try $0.decode(column: "digest", as: String.self) })
    }

    /// Records nonces as spent, in one statement. A nonce spent already makes it fail (primary key).
    package func spend(_ nonces: [(digest: String, expiresAt: Int)]) async throws {
        guard !nonces.isEmpty else { return }
        try await sql.insert(into: "spent_nonces", columns: ["digest", "expires_at"], rows: nonces) {
            [SQLBind($0.digest), SQLBind($0.expiresAt)]
        }
    }

    /// Records one nonce as spent; false when it was spent already. Never fails on the duplicate, so
    /// a transaction that spends a nonce stays usable on PostgreSQL too.
    package func spend(digest: String, expiresAt: Int) async throws -> Bool {
        try await sql.insert(into: "spent_nonces").columns("digest", "expires_at").values(SQLBind(digest), SQLBind(expiresAt))
            .ignoringConflicts(with: ["digest"]).returning("digest").first() != nil
    }

    /// Forgets spent nonces that have expired (they are refused on their expiry alone).
    package func purge(before: Int) async throws {
        try await sql.delete(from: "spent_nonces").where("expires_at", .lessThanOrEqual, before).run()
    }
}
