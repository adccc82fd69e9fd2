import Synchronization
import SQLKit

/// The gap-free counters, and the secrets migrations keep in the database.
package struct CounterRepository: Sendable {
    let sql: any SQLDatabase
    /// On SQLite, where `advance` notes the counters it moved (see `CounterMarks`).
    var marks: CounterMarks? = nil

    /// The counters there are.
    package enum Counter: String, Sendable, CaseIterable {
        /// The last event's sequence number.
        case events
        /// Moves whenever certificates or status bits change: CRLs and status lists are made again.
        case revocations
        /// Status-list slots handed out.
        case statusIndex = "status_index"
        /// The last policy version.
        case policies
    }

    /// The next value of a counter. The update locks the counter's row until the transaction ends,
    /// so concurrent transactions take consecutive values and a rolled-back one leaves no gap.
    package func next(_ counter: Counter) async throws -> Int {
        try await advance(counter, by: 1)
    }

    /// The current value of a counter.
    package func current(_ counter: Counter) async throws -> Int {
        try await sql.raw(#"SELECT "value" FROM "counters" WHERE "name" = \#(bind: counter.rawValue) LIMIT 1"#).first()?
            .decode(column: "value", as: Int.self) ?? 0
    }

    /// Advances a counter by `count` and returns its new value (the last one taken).
    package func advance(_ counter: Counter, by count: Int) async throws -> Int {
        // Written as text: every transaction that appends events advances one (see `SQLSupport`).
        let row = try await sql.raw(
            #"UPDATE "counters" SET "value" = "value" + \#(literal: count) WHERE "name" = \#(bind: counter.rawValue) RETURNING "value""#
        ).first()
        guard let row else { throw StoreError.corrupt("counter \(counter.rawValue) is missing") }
        marks?.note(counter)
        return try row.decode(column: "value", as: Int.self)
    }

    /// A secret the authority keeps in the database (hex), if there is one by that name.
    package func secret(_ name: String) async throws -> String? {
        try await sql.select().column("value").from("secrets").where("name", .equal, name).first(decodingColumn: "value", as: String.self)
    }

    /// A setting of the authority, if it has been made.
    package func setting(_ name: String) async throws -> String? {
        try await sql.select().column("value").from("settings").where("name", .equal, name).first(decodingColumn: "value", as: String.self)
    }

    /// Makes a setting unless it is made already (another node may have, meanwhile).
    package func setIfAbsent(_ name: String, to value: String) async throws {
        try await sql.insert(into: "settings").columns("name", "value").values(SQLBind(name), SQLBind(value))
            .ignoringConflicts(with: ["name"])
            .run()
    }

    /// Makes or changes a setting.
    package func set(_ name: String, to value: String) async throws {
        try await sql.insert(into: "settings").columns("name", "value").values(SQLBind(name), SQLBind(value))
            .onConflict(with: ["name"]) { $0.set(excludedValueOf: "value") }
            .run()
    }
}

/// The counters one SQLite transaction advanced: once it commits, the database counts a commit for
/// each (`VouchDatabase.localCommits(advancing:)`), so that a cache of what only a counter's moves
/// change (the revocation state) looks at the database again only after one, not after every
/// enrollment. A rolled-back transaction is never counted, whatever it noted.
final class CounterMarks: Sendable {
    private let moved = Mutex<Set<CounterRepository.Counter>>([])

    func note(_ counter: CounterRepository.Counter) {
        moved.withLock { _ = $0.insert(counter) }
    }

    var advanced: Set<CounterRepository.Counter> { moved.withLock { $0 } }
}
