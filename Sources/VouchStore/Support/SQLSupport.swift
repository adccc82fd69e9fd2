import Foundation
import SQLKit
import Synchronization

/// What every repository shares: its session's database, row decoding, and the batched insert.
///
/// Statements on the enrollment path are written as text (`sql.raw` with bound values, identifiers
/// quoted as both engines read them) rather than built: SQLKit's builders serialize a statement by
/// walking and escaping every part of it each time, which cost an enrollment more than SQLite took
/// to run the statement.
extension SQLDatabase {
    /// A multi-row insert with the columns named and each row's values bound in their order. The
    /// hot inserts say their columns rather than go through SQLKit's `Codable` model encoder, which
    /// converts every key to snake case on every row.
    ///
    /// When every value is a bind, the statement's text is written once per table, columns, row
    /// count and dialect (`InsertTexts`) and the binds go with it: SQLKit's serializer, which walks
    /// and escapes every identifier and placeholder of every row, is what enrollments spent most of
    /// their database time on after SQLite itself.
    func insert<Row>(
        into table: String, columns: [String], rows: [Row], values: (Row) -> [any SQLExpression]
    ) async throws {
        var binds: [any Encodable & Sendable] = []
        binds.reserveCapacity(rows.count * columns.count)
        allBinds: for row in rows {
            for value in values(row) {
                guard let bind = value as? SQLBind else {
                    binds.removeAll()
                    break allBinds
                }
                binds.append(bind.encodable)
            }
        }
        guard !rows.isEmpty, binds.count == rows.count * columns.count else {
            let query = insert(into: table).columns(columns)
            for row in rows {
                query.values(values(row))
            }
            try await query.run()
            return
        }
        let text = InsertTexts.text(table: table, columns: columns, rows: rows.count, on: self)
        try await execute(sql: SerializedStatement(sql: text, binds: binds)) { _ in }
    }

    /// Whether this is PostgreSQL (row locks, advisory locks).
    var isPostgres: Bool { dialect.name == "postgresql" }
}

enum SQLValues {
    /// Rows as stored: column names are the snake_case of the property names.
    static let decoder = SQLRowDecoder(keyDecodingStrategy: .convertFromSnakeCase)

    /// A bound value, NULL when there is none (bound too, so that an insert's text stays the same
    /// whichever of its rows have one; see `insert(into:columns:rows:values:)`).
    static func bind(_ value: Int?) -> any SQLExpression {
        SQLBind(value)
    }
}

/// The JSON text some columns hold (attributes, roles, keys, group settings): encoded and decoded
/// here, at the store's boundary, and nowhere else.
enum StoredJSON {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, from json: String, column: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(json.utf8))
        } catch {
            throw StoreError.corrupt("the \(column) column does not hold \(T.self) as JSON: \(error)")
        }
    }
}

/// A statement whose text is already written, with its binds.
struct SerializedStatement: SQLExpression {
    let sql: String
    let binds: [any Encodable & Sendable]

    func serialize(to serializer: inout SQLSerializer) {
        serializer.write(sql)
        serializer.binds.append(contentsOf: binds)
    }
}

/// The texts of multi-row inserts, written by SQLKit once per dialect, table, columns and row count.
enum InsertTexts {
    private static let texts = Mutex<[String: String]>([:])
    /// Inserts name a handful of tables with up to a batch's rows each; the bound only keeps an
    /// unexpected caller from growing the cache.
    private static let limit = 1024

    static func text(table: String, columns: [String], rows: Int, on database: any SQLDatabase) -> String {
        let key = "\(database.dialect.name)\u{0}\(table)\u{0}\(columns.joined(separator: ","))\u{0}\(rows)"
        if let text = texts.withLock({ $0[key] }) { return text }
        var query = SQLInsert(table: SQLIdentifier(table))
        query.columns = columns.map { SQLIdentifier($0) }
        // Placeholders only: the serializer numbers them as the dialect does.
        let placeholder: any SQLExpression = SQLBind(0)
        query.values = Array(repeating: Array(repeating: placeholder, count: columns.count), count: rows)
        var serializer = SQLSerializer(database: database)
        query.serialize(to: &serializer)
        let text = serializer.sql
        texts.withLock { texts in
            if texts.count >= limit { texts.removeAll(keepingCapacity: true) }
            texts[key] = text
        }
        return text
    }
}
