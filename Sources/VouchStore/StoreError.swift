import PostgresNIO
import SQLiteNIO

/// An error from the persistence layer.
package struct StoreError: Error, Sendable, CustomStringConvertible {
    package enum Code: Sendable, Hashable {
        case unavailable, invalidConfiguration, notFound, conflict, corrupt
    }

    package let code: Code
    package let reason: String

    package var description: String { reason }

    package static func unavailable(_ reason: String) -> Self { Self(code: .unavailable, reason: reason) }
    package static func invalidConfiguration(_ reason: String) -> Self { Self(code: .invalidConfiguration, reason: reason) }
    package static func notFound(_ reason: String) -> Self { Self(code: .notFound, reason: reason) }
    package static func conflict(_ reason: String) -> Self { Self(code: .conflict, reason: reason) }
    package static func corrupt(_ reason: String) -> Self { Self(code: .corrupt, reason: reason) }
}

extension StoreError {
    /// Whether `error` is the database refusing a duplicate of a unique column (SQLite's UNIQUE or
    /// PRIMARY KEY constraint, PostgreSQL's SQLSTATE 23505): two requests raced for the same record.
    package static func isUniqueViolation(_ error: any Error) -> Bool {
        if let error = error as? SQLiteFailure {
            return error.isUniqueViolation
        }
        if let error = error as? SQLiteError {
            return error.reason == .constraintUniqueFailed || error.reason == .constraintPrimaryKeyFailed
                || (error.reason == .constraint && (error.message.contains("UNIQUE") || error.message.contains("PRIMARY KEY")))
        }
        if let error = error as? PSQLError {
            return error.serverInfo?[.sqlState] == PostgresError.Code.uniqueViolation.raw
        }
        return false
    }
}
