import Foundation
import SQLKit
import VouchCore
import VouchKit

/// An enrollment group as stored.
package struct GroupRecord: Sendable, Hashable {
    package var id: String
    package var name: String
    /// Lower-case hex SHA-256 of the claim token (claim-token groups).
    package var tokenHash: String?
    /// nil: unlimited (or no token).
    package var tokenUsesLeft: Int?
    package var rules: EnrollmentRules
    package var disabled: Bool
    package var createdAt: Int
    package var updatedAt: Int

    package init(
        id: String, name: String, tokenHash: String?, tokenUsesLeft: Int?, rules: EnrollmentRules, disabled: Bool, createdAt: Int, updatedAt: Int
    ) {
        self.id = id
        self.name = name
        self.tokenHash = tokenHash
        self.tokenUsesLeft = tokenUsesLeft
        self.rules = rules
        self.disabled = disabled
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The rules as the group's events record them.
    package func settings() throws -> JSONValue {
        try JSONValue(parsing: Data(try StoredJSON.encode(rules).utf8))
    }
}

/// The enrollment groups.
package struct GroupRepository: Sendable {
    let sql: any SQLDatabase

    /// A stored row, read column by column (enrollment reads one per request; SQLKit's row decoder
    /// converts every key to snake case first).
    private struct Row {
        var id: String
        var name: String
        var tokenHash: String?
        var tokenUsesLeft: Int?
        var settings: String
        var disabled: Int
        var createdAt: Int
        var updatedAt: Int

        init(_ row: any SQLRow) throws {
            id = try row.decode(column: "id", as: String.self)
            name = try row.decode(column: "name", as: String.self)
            tokenHash = try row.decode(column: "token_hash", as: String?.self)
            tokenUsesLeft = try row.decode(column: "token_uses_left", as: Int?.self)
            settings = try row.decode(column: "settings", as: String.self)
            disabled = try row.decode(column: "disabled", as: Int.self)
            createdAt = try row.decode(column: "created_at", as: Int.self)
            updatedAt = try row.decode(column: "updated_at", as: Int.self)
        }
    }

    /// Enrollment reads its group's rules on every request.
    private static let rules = DecodedColumns<EnrollmentRules>(capacity: 256)

    private static func record(_ row: Row) throws -> GroupRecord {
        GroupRecord(
            id: row.id, name: row.name, tokenHash: row.tokenHash, tokenUsesLeft: row.tokenUsesLeft, rules: try rules.decode(row.settings, column: "settings of group \(row.id)"),
            disabled: row.disabled != 0, createdAt: row.createdAt, updatedAt: row.updatedAt)
    }

    package func insert(_ group: GroupRecord) async throws {
        try await sql.insert(into: "enrollment_groups")
            .columns("id", "name", "token_hash", "token_uses_left", "settings", "disabled", "created_at", "updated_at")
            .values(
                SQLBind(group.id), SQLBind(group.name), SQLBind(group.tokenHash), SQLValues.bind(group.tokenUsesLeft),
                SQLBind(try StoredJSON.encode(group.rules)), SQLBind(group.disabled ? 1 : 0), SQLBind(group.createdAt), SQLBind(group.updatedAt)
            ).run()
    }

    package func update(_ group: GroupRecord) async throws {
        try await sql.update("enrollment_groups")
            .set("token_hash", to: group.tokenHash)
            .set("token_uses_left", to: group.tokenUsesLeft)
            .set("settings", to: try StoredJSON.encode(group.rules))
            .set("disabled", to: group.disabled ? 1 : 0)
            .set("updated_at", to: group.updatedAt)
            .where("id", .equal, group.id).run()
    }

    // Written as text: every enrollment reads its group (see `SQLSupport`).
    package func find(id: String) async throws -> GroupRecord? {
        try await sql.raw(#"SELECT * FROM "enrollment_groups" WHERE "id" = \#(bind: id) LIMIT 1"#).first().map { try Self.record(Row($0)) }
    }

    package func find(name: String) async throws -> GroupRecord? {
        try await sql.raw(#"SELECT * FROM "enrollment_groups" WHERE "name" = \#(bind: name) LIMIT 1"#).first().map { try Self.record(Row($0)) }
    }

    package func all() async throws -> [GroupRecord] {
        try await sql.select().column("*").from("enrollment_groups").orderBy("name")
            .all().map { try Self.record(Row($0)) }
    }

    /// Takes one use of a limited claim token. False when none is left.
    package func takeTokenUse(groupID: String) async throws -> Bool {
        let row = try await sql.update("enrollment_groups")
            .set("token_uses_left", to: SQLBinaryExpression(SQLColumn("token_uses_left"), .subtract, SQLLiteral.numeric("1")))
            .where("id", .equal, groupID).where("token_uses_left", .greaterThan, 0)
            .returning("token_uses_left").first()
        return row != nil
    }
}
