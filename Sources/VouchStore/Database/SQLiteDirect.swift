import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import Synchronization
import VaporCSQLite

/// One SQLite connection, called directly and synchronously by whichever thread runs the statement.
///
/// SQLiteNIO runs every statement on a thread pool, hands each row to an event loop and resumes the
/// caller from there: three thread hops and a fresh `sqlite3_prepare` per statement, which cost the
/// enrollment path more than the statements themselves. A statement against a local WAL database
/// takes microseconds, so it is run in place, and prepared statements are kept per SQL text.
///
/// The connection is used by one caller at a time (the mutex is held only for one statement, never
/// across a suspension point). It is SQLite's own library, the one SQLiteNIO bundles.
package final class SQLiteHandle: Sendable {
    /// Only ever reached through the mutex.
    private struct State: ~Copyable, @unchecked Sendable {
        var database: OpaquePointer?
        var statements: [String: Prepared] = [:]
    }

    /// A prepared statement and its column names, kept while the connection is open.
    private final class Prepared {
        let statement: OpaquePointer
        let columns: SQLiteColumnNames

        init(statement: OpaquePointer, columns: SQLiteColumnNames) {
            self.statement = statement
            self.columns = columns
        }
    }

    /// How many distinct statements are kept prepared. Multi-row inserts make one SQL text per row
    /// count, so the set is bounded; past the bound the cache starts over.
    private static let statementCacheLimit = 512

    private let state: Mutex<State>
    package let path: String

    private init(database: OpaquePointer, path: String) {
        state = Mutex(State(database: database))
        self.path = path
    }

    /// Opens (creating) the database file at `path`.
    package static func open(path: String, readOnly: Bool = false) throws -> SQLiteHandle {
        _ = sqlite_nio_sqlite3_initialize()
        var database: OpaquePointer?
        let flags =
            (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let code = sqlite_nio_sqlite3_open_v2(path, &database, flags, nil)
        guard code == SQLITE_OK, let database else {
            let message = database.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "error \(code)"
            if let database { sqlite_nio_sqlite3_close_v2(database) }
            throw SQLiteFailure(code: code, message: message)
        }
        return SQLiteHandle(database: database, path: path)
    }

    /// Runs `sql` with `binds`, handing each row to `onRow` as it is stepped.
    package func run(_ sql: String, _ binds: [SQLiteData], _ onRow: (SQLiteColumnNames, [SQLiteData]) throws -> Void) throws {
        try state.withLock { state in
            guard let database = state.database else { throw SQLiteFailure(code: SQLITE_MISUSE, message: "the connection is closed") }
            let prepared: Prepared
            if let found = state.statements[sql] {
                prepared = found
            } else {
                prepared = try Self.prepare(sql, on: database)
                if state.statements.count >= Self.statementCacheLimit {
                    for old in state.statements.values { sqlite_nio_sqlite3_finalize(old.statement) }
                    state.statements.removeAll(keepingCapacity: true)
                }
                state.statements[sql] = prepared
            }
            let statement = prepared.statement
            defer {
                sqlite_nio_sqlite3_reset(statement)
                sqlite_nio_sqlite3_clear_bindings(statement)
            }
            try Self.bind(binds, to: statement, on: database)
            while true {
                let code = sqlite_nio_sqlite3_step(statement)
                if code == SQLITE_DONE { return }
                guard code == SQLITE_ROW else { throw SQLiteFailure(code: code, database: database) }
                try onRow(prepared.columns, try Self.values(of: statement, count: prepared.columns.names.count))
            }
        }
    }

    /// Closes the connection; statements after this fail.
    package func close() {
        state.withLock { state in
            for prepared in state.statements.values { sqlite_nio_sqlite3_finalize(prepared.statement) }
            state.statements.removeAll()
            if let database = state.database { sqlite_nio_sqlite3_close_v2(database) }
            state.database = nil
        }
    }

    deinit {
        close()
    }

    private static func prepare(_ sql: String, on database: OpaquePointer) throws -> Prepared {
        var statement: OpaquePointer?
        let code = sqlite_nio_sqlite3_prepare_v3(database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK else { throw SQLiteFailure(code: code, database: database) }
        guard let statement else {
            // Only whitespace or a comment: nothing to run.
            throw SQLiteFailure(code: SQLITE_MISUSE, message: "the SQL text holds no statement")
        }
        let count = sqlite_nio_sqlite3_column_count(statement)
        let names = (0..<count).map { index in
            sqlite_nio_sqlite3_column_name(statement, index).map { String(cString: $0) } ?? "column\(index)"
        }
        return Prepared(statement: statement, columns: SQLiteColumnNames(names))
    }

    private static func bind(_ binds: [SQLiteData], to statement: OpaquePointer, on database: OpaquePointer) throws {
        for (offset, value) in binds.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .integer(let integer):
                code = sqlite_nio_sqlite3_bind_int64(statement, index, Int64(integer))
            case .float(let double):
                code = sqlite_nio_sqlite3_bind_double(statement, index, double)
            case .text(let text):
                code = sqlite_nio_sqlite3_bind_text64(statement, index, text, UInt64(text.utf8.count), transient, UInt8(SQLITE_UTF8))
            case .blob(let buffer):
                code = buffer.withUnsafeReadableBytes { bytes in
                    sqlite_nio_sqlite3_bind_blob64(statement, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64(bytes.count), transient)
                }
            case .null:
                code = sqlite_nio_sqlite3_bind_null(statement, index)
            }
            guard code == SQLITE_OK else { throw SQLiteFailure(code: code, database: database) }
        }
    }

    private static func values(of statement: OpaquePointer, count: Int) throws -> [SQLiteData] {
        var values: [SQLiteData] = []
        values.reserveCapacity(count)
        for column in 0..<Int32(count) {
            switch sqlite_nio_sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER:
                values.append(.integer(Int(sqlite_nio_sqlite3_column_int64(statement, column))))
            case SQLITE_FLOAT:
                values.append(.float(sqlite_nio_sqlite3_column_double(statement, column)))
            case SQLITE_TEXT:
                let length = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
                let text = sqlite_nio_sqlite3_column_text(statement, column)
                values.append(.text(text.map { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) } ?? ""))
            case SQLITE_BLOB:
                let length = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
                var buffer = ByteBufferAllocator().buffer(capacity: length)
                if let bytes = sqlite_nio_sqlite3_column_blob(statement, column) {
                    buffer.writeBytes(UnsafeRawBufferPointer(start: bytes, count: length))
                }
                values.append(.blob(buffer))
            default:
                values.append(.null)
            }
        }
        return values
    }
}

/// SQLite copies a bound value before the bind call returns (`SQLITE_TRANSIENT`).
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// The column names of a statement's rows, shared by every row it returns.
package final class SQLiteColumnNames: Sendable {
    let names: [String]
    private let indexes: [String: Int]

    init(_ names: [String]) {
        self.names = names
        var indexes: [String: Int] = [:]
        // The first column of a name wins, as `SQLiteRow.column(_:)` does.
        for (index, name) in names.enumerated() where indexes[name] == nil {
            indexes[name] = index
        }
        self.indexes = indexes
    }

    func index(of name: String) -> Int? { indexes[name] }
}

/// An error SQLite reported, with its extended result code.
package struct SQLiteFailure: Error, Sendable, CustomStringConvertible {
    /// The extended result code (`SQLITE_CONSTRAINT_UNIQUE` and so on).
    package let code: Int32
    package let message: String

    init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    init(code: Int32, database: OpaquePointer) {
        self.code = sqlite_nio_sqlite3_extended_errcode(database)
        self.message = sqlite_nio_sqlite3_errmsg(database).map { String(cString: $0) } ?? "SQLite error \(code)"
    }

    package var description: String { "SQLite error \(code): \(message)" }

    /// A UNIQUE or PRIMARY KEY constraint refused the row.
    package var isUniqueViolation: Bool {
        code == 2067 /* SQLITE_CONSTRAINT_UNIQUE */ || code == 1555 /* SQLITE_CONSTRAINT_PRIMARYKEY */
    }
}

/// A row of a direct statement, read through SQLiteKit's decoder as SQLiteKit's own rows are.
private struct SQLiteDirectRow: SQLRow {
    let columns: SQLiteColumnNames
    let values: [SQLiteData]
    let decoder: SQLiteDataDecoder

    var allColumns: [String] { columns.names }

    func contains(column: String) -> Bool { columns.index(of: column) != nil }

    func decodeNil(column: String) throws -> Bool {
        guard let index = columns.index(of: column) else { return true }
        return values[index] == .null
    }

    func decode<D: Decodable>(column: String, as: D.Type) throws -> D {
        guard let index = columns.index(of: column) else {
            throw DecodingError.keyNotFound(
                SQLiteColumnKey(stringValue: column), .init(codingPath: [], debugDescription: "the row has no column \(column)"))
        }
        return try decoder.decode(D.self, from: values[index])
    }
}

private struct SQLiteColumnKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// SQLKit's view of a direct connection: statements serialized with SQLiteKit's dialect and
/// encoder, run in place on the calling thread.
package struct SQLiteDirectDatabase: SQLDatabase {
    let handle: SQLiteHandle
    package let logger: Logger
    private let encoder = SQLiteDataEncoder()
    private let decoder = SQLiteDataDecoder()

    init(handle: SQLiteHandle, logger: Logger) {
        self.handle = handle
        self.logger = logger
    }

    package var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    package var version: (any SQLDatabaseReportedVersion)? { SQLiteLibraryVersion.runtime }
    package var dialect: any SQLDialect { SQLiteDialect() }
    package var queryLogLevel: Logger.Level? { nil }

    package func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        eventLoop.makeCompletedFuture { try run(query, onRow) }
    }

    package func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try run(query, onRow)
    }

    package func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await closure(self)
    }

    private func run(_ query: any SQLExpression, _ onRow: @Sendable (any SQLRow) -> Void) throws {
        let (sql, rawBinds) = serialize(query)
        let binds = try rawBinds.map { try encoder.encode($0) }
        let decoder = decoder
        try handle.run(sql, binds) { columns, values in
            onRow(SQLiteDirectRow(columns: columns, values: values, decoder: decoder))
        }
    }
}

/// The SQLite library's version, as SQLKit asks for it.
private struct SQLiteLibraryVersion: SQLDatabaseReportedVersion {
    let intValue: Int

    static let runtime = SQLiteLibraryVersion(intValue: Int(sqlite_nio_sqlite3_libversion_number()))

    var stringValue: String { "\(intValue / 1_000_000).\(intValue / 1_000 % 1_000).\(intValue % 1_000)" }

    func isEqual(to otherVersion: any SQLDatabaseReportedVersion) -> Bool {
        (otherVersion as? Self)?.intValue == intValue
    }

    func isOlder(than otherVersion: any SQLDatabaseReportedVersion) -> Bool {
        (otherVersion as? Self).map { intValue < $0.intValue } ?? false
    }
}
