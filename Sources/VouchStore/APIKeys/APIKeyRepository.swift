import SQLKit
import VouchCore

/// An API key as stored: the secret only as its digest.
package struct APIKeyRecord: Sendable, Hashable {
    package var id: String
    package var name: String
    package var scope: APIScope
    /// Lower-case hex SHA-256 of the secret.
    package var secretHash: String
    package var createdAt: Int
    package var revokedAt: Int?

    package init(id: String, name: String, scope: APIScope, secretHash: String, createdAt: Int, revokedAt: Int? = nil) {
        self.id = id
        self.name = name
        self.scope = scope
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// The API keys of operators and enforcement points.
package struct APIKeyRepository: Sendable {
    let sql: any SQLDatabase

    private struct Row: Codable {
        var id: String
        var name: String
        var scope: String
        var secretHash: String
        var createdAt: Int
        var revokedAt: Int?
    }

    private static func record(_ row: Row) throws -> APIKeyRecord {
        guard let scope = APIScope(rawValue: row.scope) else { throw StoreError.corrupt("API key \(row.id) has scope \(row.scope)") }
        return APIKeyRecord(id: row.id, name: row.name, scope: scope, secretHash: row.secretHash, createdAt: row.createdAt, revokedAt: row.revokedAt)
    }

    package func insert(_ key: APIKeyRecord) async throws {
        try await sql.insert(into: "api_keys").columns("id", "name", "scope", "secret_hash", "created_at", "revoked_at")
            .values(
                SQLBind(key.id), SQLBind(key.name), SQLBind(key.scope.rawValue), SQLBind(key.secretHash), SQLBind(key.createdAt),
                SQLValues.bind(key.revokedAt)
            ).run()
    }

    package func find(secretHash: String) async throws -> APIKeyRecord? {
        try await sql.select().column("*").from("api_keys").where("secret_hash", .equal, secretHash)
            .first(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    /// The key with this id, revoked or not.
    package func find(id: String) async throws -> APIKeyRecord? {
        try await sql.select().column("*").from("api_keys").where("id", .equal, id)
            .first(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    package func all() async throws -> [APIKeyRecord] {
        try await sql.select().column("*").from("api_keys").orderBy("created_at").orderBy("id")
            .all(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    /// The keys not revoked, locked until the transaction ends on PostgreSQL (SQLite serialises
    /// writers anyway), so that a check over them (the last admin key) holds when the change commits.
    package func liveForUpdate() async throws -> [APIKeyRecord] {
        let query = sql.select().column("*").from("api_keys").where("revoked_at", .is, SQLLiteral.null).orderBy("id")
        if sql.isPostgres { query.for(.update) }
        return try await query.all(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    /// Marks the key revoked; false when it does not exist or already was.
    package func revoke(id: String, at: Int) async throws -> Bool {
        let row = try await sql.update("api_keys").set("revoked_at", to: at)
            .where("id", .equal, id).where("revoked_at", .is, SQLLiteral.null)
            .returning("id").first()
        return row != nil
    }
}
