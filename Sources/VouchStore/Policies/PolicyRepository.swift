import SQLKit

/// A policy version as stored.
package struct PolicyRecord: Codable, Sendable, Hashable {
    package var version: Int
    /// The document as uploaded.
    package var source: String
    /// Lower-case hex SHA-256 of the source's UTF-8.
    package var digest: String
    package var createdAt: Int
    package var actor: String

    package init(version: Int, source: String, digest: String, createdAt: Int, actor: String) {
        self.version = version
        self.source = source
        self.digest = digest
        self.createdAt = createdAt
        self.actor = actor
    }
}

/// A policy version without its text.
package struct PolicyVersionSummary: Sendable, Hashable {
    package var version: Int
    package var digest: String
    package var createdAt: Int
    package var actor: String

    package init(version: Int, digest: String, createdAt: Int, actor: String) {
        self.version = version
        self.digest = digest
        self.createdAt = createdAt
        self.actor = actor
    }
}

/// The policy versions; the highest is in force.
package struct PolicyRepository: Sendable {
    let sql: any SQLDatabase

    /// The policy in force: the highest version.
    package func latest() async throws -> PolicyRecord? {
        try await sql.select().column("*").from("policies").orderBy("version", .descending).limit(1)
            .first(decoding: PolicyRecord.self, with: SQLValues.decoder)
    }

    package func find(version: Int) async throws -> PolicyRecord? {
        try await sql.select().column("*").from("policies").where("version", .equal, version)
            .first(decoding: PolicyRecord.self, with: SQLValues.decoder)
    }

    /// Versions, newest first, without their text.
    package func versions(limit: Int) async throws -> [PolicyVersionSummary] {
        try await sql.select().columns("version", "digest", "created_at", "actor").from("policies")
            .orderBy("version", .descending).limit(limit).all().map {
                PolicyVersionSummary(
                    version: try $0.decode(column: "version", as: Int.self), digest: try $0.decode(column: "digest", as: String.self),
                    createdAt: try $0.decode(column: "created_at", as: Int.self), actor: try $0.decode(column: "actor", as: String.self))
            }
    }

    /// Inserts a version; the primary key refuses a version written meanwhile by another node.
    package func insert(_ policy: PolicyRecord) async throws {
        try await sql.insert(into: "policies").columns("version", "source", "digest", "created_at", "actor")
            .values(SQLBind(policy.version), SQLBind(policy.source), SQLBind(policy.digest), SQLBind(policy.createdAt), SQLBind(policy.actor))
            .run()
    }
}
