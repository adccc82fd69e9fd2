import SQLKit
import VouchKit

/// The set bits of the status lists, by purpose (revocation, suspension).
package struct StatusBitRepository: Sendable {
    let sql: any SQLDatabase

    /// Sets the bits (idempotent).
    package func set(_ purpose: StatusPurpose, indexes: [Int], at: Int) async throws {
        for index in indexes {
            let existing = try await sql.select().column("idx").from("status_bits")
                .where("purpose", .equal, purpose.rawValue).where("idx", .equal, index).first()
            if existing == nil {
                try await sql.insert(into: "status_bits").columns("purpose", "idx", "set_at")
                    .values(SQLBind(purpose.rawValue), SQLBind(index), SQLBind(at)).run()
            }
        }
    }

    package func clear(_ purpose: StatusPurpose, indexes: [Int]) async throws {
        guard !indexes.isEmpty else { return }
        try await sql.delete(from: "status_bits").where("purpose", .equal, purpose.rawValue).where("idx", .in, indexes).run()
    }

    /// Every set bit of `purpose` in `range`.
    package func set(_ purpose: StatusPurpose, in range: Range<Int>) async throws -> [Int] {
        try await sql.select().column("idx").from("status_bits").where("purpose", .equal, purpose.rawValue)
            .where("idx", .greaterThanOrEqual, range.lowerBound).where("idx", .lessThan, range.upperBound)
            .all(decodingColumn: "idx", as: Int.self)
    }
}
