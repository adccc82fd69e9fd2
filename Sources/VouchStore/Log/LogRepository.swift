import Foundation
import SQLKit
import VouchCore
import VouchKit

/// The transparency log's tree nodes, checkpoints, and the checkpoint waiting for witnesses.
package struct LogRepository: Sendable {
    let sql: any SQLDatabase

    /// Stores tree nodes, several hundred to a statement.
    package func insertNodes(_ nodes: [(node: MerkleNode, hash: MerkleHash)]) async throws {
        for start in stride(from: 0, to: nodes.count, by: 500) {
            let chunk = nodes[start..<min(start + 500, nodes.count)]
            try await sql.insert(into: "log_nodes", columns: ["level", "idx", "hash"], rows: Array(chunk)) {
                [SQLBind($0.node.level), SQLBind(Int64(bitPattern: $0.node.index)), SQLBind(Data($0.hash.bytes))]
            }
        }
    }

    /// The hashes of `nodes` that are stored, by node, in one statement: a disjunction of
    /// primary-key lookups, which SQLite and PostgreSQL both answer from the index term by term.
    package func nodes(_ nodes: [MerkleNode]) async throws -> [MerkleNode: MerkleHash] {
        var found: [MerkleNode: MerkleHash] = [:]
        for start in stride(from: 0, to: nodes.count, by: 200) {
            let chunk = nodes[start..<min(start + 200, nodes.count)]
            var query = SQLQueryString("SELECT level, idx, hash FROM log_nodes WHERE ")
            for (position, node) in chunk.enumerated() {
                if position > 0 { query.appendLiteral(" OR ") }
                query.appendInterpolation(unsafeRaw: "(level = ")
                query.appendInterpolation(bind: node.level)
                query.appendInterpolation(unsafeRaw: " AND idx = ")
                query.appendInterpolation(bind: Int64(bitPattern: node.index))
                query.appendInterpolation(unsafeRaw: ")")
            }
            for row in try await sql.raw(query).all() {
                let node = MerkleNode(level: try row.decode(column: "level", as: Int.self), index: UInt64(bitPattern: try row.decode(column: "idx", as: Int64.self)))
                found[node] = try MerkleHash(bytes: try row.decode(column: "hash", as: Data.self))
            }
        }
        return found
    }

    /// The node hashes of tree level `level` from index `first`, `count` of them, in order (a tile).
    package func nodes(level: Int, from first: UInt64, count: Int) async throws -> [MerkleHash] {
        try await sql.select().column("hash").from("log_nodes").where("level", .equal, level)
            .where("idx", .greaterThanOrEqual, Int64(bitPattern: first)).where("idx", .lessThan, Int64(bitPattern: first + UInt64(count)))
            .orderBy("idx").all(decodingColumn: "hash", as: Data.self).map { try MerkleHash(bytes: $0) }
    }

    /// Records a published checkpoint. A second checkpoint of the same size fails (primary key).
    package func insertCheckpoint(size: UInt64, root: MerkleHash, note: String, at: Int) async throws {
        try await sql.insert(into: "log_checkpoints").columns("size", "root", "note", "published_at")
            .values(SQLBind(Int64(bitPattern: size)), SQLBind(Data(root.bytes)), SQLBind(note), SQLBind(at)).run()
    }

    /// The latest published checkpoint: its size, root and signed note.
    package func latestCheckpoint() async throws -> (size: UInt64, root: MerkleHash, note: String)? {
        guard let row = try await sql.select().columns("size", "root", "note").from("log_checkpoints").orderBy("size", .descending).limit(1).first()
        else { return nil }
        return (
            UInt64(bitPattern: try row.decode(column: "size", as: Int64.self)), try MerkleHash(bytes: try row.decode(column: "root", as: Data.self)),
            try row.decode(column: "note", as: String.self)
        )
    }

    /// The latest `limit` published checkpoints, newest first: size, root, signed note and when.
    package func checkpoints(limit: Int) async throws -> [(size: UInt64, root: MerkleHash, note: String, publishedAt: Int)] {
        try await sql.select().columns("size", "root", "note", "published_at").from("log_checkpoints").orderBy("size", .descending).limit(limit).all()
            .map { row in
                (
                    UInt64(bitPattern: try row.decode(column: "size", as: Int64.self)), try MerkleHash(bytes: try row.decode(column: "root", as: Data.self)),
                    try row.decode(column: "note", as: String.self), try row.decode(column: "published_at", as: Int.self)
                )
            }
    }

    /// The number of entries the stored tree holds: one past the highest leaf stored.
    package func size() async throws -> UInt64 {
        let rows = try await sql.select().column("idx").from("log_nodes").where("level", .equal, 0)
            .orderBy("idx", .descending).limit(1).all(decodingColumn: "idx", as: Int64.self)
        return rows.first.map { UInt64(bitPattern: $0) + 1 } ?? 0
    }

    /// Makes the log's writers take turns across nodes: on PostgreSQL a transaction-scoped advisory
    /// lock; on SQLite the writer lock the transaction already holds.
    package func lock() async throws {
        if sql.isPostgres {
            try await sql.raw("SELECT pg_advisory_xact_lock(\(literal: Self.logLockKey))").run()
        }
    }

    /// The advisory lock key of the log's sequencer ("vlog" in ASCII).
    static let logLockKey = 0x766C_6F67

    /// The newest checkpoint signed and waiting for witnesses' cosignatures.
    package func pendingCheckpoint() async throws -> (size: UInt64, note: String, createdAt: Int)? {
        guard let row = try await sql.select().columns("size", "note", "created_at").from("log_pending").orderBy("size", .descending).limit(1).first()
        else { return nil }
        return (
            UInt64(bitPattern: try row.decode(column: "size", as: Int64.self)), try row.decode(column: "note", as: String.self),
            try row.decode(column: "created_at", as: Int.self)
        )
    }

    /// Keeps a signed checkpoint until enough witnesses cosign it; older ones are dropped.
    package func insertPending(size: UInt64, note: String, at: Int) async throws {
        try await sql.delete(from: "log_pending").where("size", .lessThan, Int64(bitPattern: size)).run()
        try await sql.delete(from: "log_cosignatures").where("size", .lessThan, Int64(bitPattern: size)).run()
        try await sql.insert(into: "log_pending").columns("size", "note", "created_at")
            .values(SQLBind(Int64(bitPattern: size)), SQLBind(note), SQLBind(at)).run()
    }

    /// Records a witness's cosignature line for the pending checkpoint of `size`, replacing an
    /// earlier one of that witness; returns every witness's line for that size.
    package func addCosignature(size: UInt64, witness: String, line: String, at: Int) async throws -> [String: String] {
        try await sql.delete(from: "log_cosignatures").where("size", .equal, Int64(bitPattern: size)).where("witness", .equal, witness).run()
        try await sql.insert(into: "log_cosignatures").columns("size", "witness", "line", "received_at")
            .values(SQLBind(Int64(bitPattern: size)), SQLBind(witness), SQLBind(line), SQLBind(at)).run()
        var lines: [String: String] = [:]
        for row in try await sql.select().columns("witness", "line").from("log_cosignatures").where("size", .equal, Int64(bitPattern: size)).all() {
            lines[try row.decode(column: "witness", as: String.self)] = try row.decode(column: "line", as: String.self)
        }
        return lines
    }

    /// Forgets pending checkpoints and cosignatures up to and including `size` (once it is published).
    package func clearPending(through size: UInt64) async throws {
        try await sql.delete(from: "log_pending").where("size", .lessThanOrEqual, Int64(bitPattern: size)).run()
        try await sql.delete(from: "log_cosignatures").where("size", .lessThanOrEqual, Int64(bitPattern: size)).run()
    }
}
