import Foundation
import SQLKit

/// What every repository shares: its session's database, row decoding, and the batched insert.
extension SQLDatabase {
    /// A multi-row insert with the columns named and each row's values bound in their order. The
    /// hot inserts say their columns rather than go through SQLKit's `Codable` model encoder, which
    /// converts every key to snake case on every row.
    func insert<Row>(
        into table: String, columns: [String], rows: [Row], values: (Row) -> [any SQLExpression]
    ) async throws {
        let query = insert(into: table).columns(columns)
        for row in rows {
            query.values(values(row))
        }
        try await query.run()
    }

    /// Whether this is PostgreSQL (row locks, advisory locks).
    var isPostgres: Bool { dialect.name == "postgresql" }
}

enum SQLValues {
    /// Rows as stored: column names are the snake_case of the property names.
    static let decoder = SQLRowDecoder(keyDecodingStrategy: .convertFromSnakeCase)

    /// A bound value, or SQL NULL.
    static func bind(_ value: Int?) -> any SQLExpression {
        value.map { SQLBind($0) as any SQLExpression } ?? SQLLiteral.null
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
