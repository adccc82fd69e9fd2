import Foundation
import Logging
import Testing
import VouchStore
import VouchTesting

/// The engines every repository runs on: the embedded SQLite and a PostgreSQL the test starts.
enum StoreEngine: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgresql

    var testDescription: String { rawValue }

    /// Runs `body` on a fresh, migrated store of this engine, and closes it.
    func withStore(now: Int = 1_800_000_000, _ body: (Store) async throws -> Void) async throws {
        var logger = Logger(label: "vouch-store-test")
        logger.logLevel = .error
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-store-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try await Self.run(try await VouchDatabase.sqlite(path: directory + "/vouch.db", logger: logger), now: now, body)
        case .postgresql:
            try await TestPostgres.withServer { url in
                try await Self.run(try await VouchDatabase.postgres(url: url, logger: logger), now: now, body)
            }
        }
    }

    private static func run(_ database: VouchDatabase, now: Int, _ body: (Store) async throws -> Void) async throws {
        do {
            _ = try await Migrations.run(on: database, now: now)
            try await body(Store(database: database))
        } catch {
            await database.close()
            throw error
        }
        await database.close()
    }
}
