import SQLKit
import VouchKit

/// A status bit that changed, as the revocation state follows it.
package struct StatusBitChange: Sendable, Hashable {
    package var purpose: StatusPurpose
    package var index: Int
    package var isSet: Bool
    /// The revocation generation of the change.
    package var generation: Int

    package init(purpose: StatusPurpose, index: Int, isSet: Bool, generation: Int) {
        self.purpose = purpose
        self.index = index
        self.isSet = isSet
        self.generation = generation
    }
}

/// The bits of the status lists, by purpose (revocation, suspension). A cleared bit keeps its row,
/// marked cleared, so that every change carries the revocation generation that made it.
package struct StatusBitRepository: Sendable {
    let sql: any SQLDatabase

    /// Sets the bits (idempotent: a bit already set keeps its time and generation).
    package func set(_ purpose: StatusPurpose, indexes: [Int], at: Int, generation: Int) async throws {
        for index in indexes {
            let existing = try await sql.select().column("cleared").from("status_bits")
                .where("purpose", .equal, purpose.rawValue).where("idx", .equal, index).first(decodingColumn: "cleared", as: Int.self)
            switch existing {
            case nil:
                try await sql.insert(into: "status_bits").columns("purpose", "idx", "set_at", "generation", "cleared")
                    .values(SQLBind(purpose.rawValue), SQLBind(index), SQLBind(at), SQLBind(generation), SQLBind(0)).run()
            case 0?:
                break
            default:
                try await sql.update("status_bits").set("cleared", to: 0).set("set_at", to: at).set("generation", to: generation)
                    .where("purpose", .equal, purpose.rawValue).where("idx", .equal, index).run()
            }
        }
    }

    package func clear(_ purpose: StatusPurpose, indexes: [Int], generation: Int) async throws {
        guard !indexes.isEmpty else { return }
        try await sql.update("status_bits").set("cleared", to: 1).set("generation", to: generation)
            .where("purpose", .equal, purpose.rawValue).where("idx", .in, indexes).where("cleared", .equal, 0).run()
    }

    /// Every set bit of `purpose` in `range`.
    package func set(_ purpose: StatusPurpose, in range: Range<Int>) async throws -> [Int] {
        try await sql.select().column("idx").from("status_bits").where("purpose", .equal, purpose.rawValue)
            .where("idx", .greaterThanOrEqual, range.lowerBound).where("idx", .lessThan, range.upperBound)
            .where("cleared", .equal, 0)
            .all(decodingColumn: "idx", as: Int.self)
    }

    private struct Row: Decodable {
        var purpose: String
        var idx: Int
        var cleared: Int
        var generation: Int?
    }

    private static func change(_ row: Row) throws -> StatusBitChange {
        guard let purpose = StatusPurpose(rawValue: row.purpose) else { throw StoreError.corrupt("status bit \(row.idx) has purpose \(row.purpose)") }
        return StatusBitChange(purpose: purpose, index: row.idx, isSet: row.cleared == 0, generation: row.generation ?? 0)
    }

    /// Every bit set now, of both purposes (generation 0 for bits set before generations were kept).
    package func allSet() async throws -> [StatusBitChange] {
        try await sql.select().columns("purpose", "idx", "cleared", "generation").from("status_bits").where("cleared", .equal, 0)
            .all(decoding: Row.self, with: SQLValues.decoder).map(Self.change)
    }

    /// The bits changed (set or cleared) by revocation generations after `generation`, oldest first.
    package func changes(after generation: Int) async throws -> [StatusBitChange] {
        try await sql.select().columns("purpose", "idx", "cleared", "generation").from("status_bits").where("generation", .greaterThan, generation)
            .orderBy("generation").all(decoding: Row.self, with: SQLValues.decoder).map(Self.change)
    }
}
