import Foundation
import Logging
import VouchCore
import VouchKit
import VouchStore

/// Backups of an authority: its data directory (keys, certificates, the admin key file) and, on
/// SQLite, a consistent copy of its database taken while the server runs (`VACUUM INTO`, one read
/// transaction: the copy is the database as of one commit). On PostgreSQL the database is backed
/// up with PostgreSQL's tools (`pg_dump`), and this takes the data directory. A restore makes a new
/// data directory from a backup and checks that its keys and database belong together.
public enum Backup {
    /// What `make` wrote.
    public struct Made: Sendable {
        public let directory: String
        /// Whether the database is in the backup (SQLite), or must be dumped with PostgreSQL's tools.
        public let includesDatabase: Bool
    }

    static let databaseName = "vouch.sqlite"

    /// Backs up the authority in `dataDirectory` (its database at `databaseURL`, nil: SQLite in the
    /// data directory) into `destination`, which must not exist; made with mode 0700.
    public static func make(dataDirectory root: String, databaseURL: String?, to destination: String) throws -> Made {
        try DataDirectory.requireBootstrapped(root)
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw ServerStartupError("\(destination) exists; give a new directory for the backup")
        }
        let sqlitePath: String?
        do {
            sqlitePath = try VouchDatabase.sqlitePath(url: databaseURL, dataDirectory: root)
        } catch {
            throw ServerStartupError("\(error)")
        }
        do {
            try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ServerStartupError("cannot create \(destination): \(error.localizedDescription)")
        }
        do {
            if let sqlitePath {
                try VouchDatabase.copySQLite(at: sqlitePath, to: destination + "/" + databaseName)
                _ = chmod(destination + "/" + databaseName, 0o600)
            }
            try copyDataDirectory(from: root, to: destination)
        } catch {
            try? FileManager.default.removeItem(atPath: destination)
            if let error = error as? ServerStartupError { throw error }
            throw ServerStartupError("the backup of \(root) failed, and \(destination) is removed: \(error)")
        }
        return Made(directory: destination, includesDatabase: sqlitePath != nil)
    }

    /// Makes the data directory `destination` (new, or empty) from the backup in `source`, and
    /// checks that its keys and its database (`databaseURL`: nil for the backup's SQLite copy, or the
    /// PostgreSQL database restored from its dump) belong together.
    public static func restore(from source: String, to destination: String, databaseURL: String?, logger: Logger) async throws {
        try DataDirectory.requireBootstrapped(source)
        let hasDatabase = FileManager.default.fileExists(atPath: source + "/" + databaseName)
        if databaseURL == nil && !hasDatabase {
            throw ServerStartupError("\(source) holds no \(databaseName): it backs up an authority on PostgreSQL; restore its dump first and give --database")
        }
        if let existing = try? FileManager.default.contentsOfDirectory(atPath: destination), !existing.isEmpty {
            throw ServerStartupError("\(destination) is not empty; restore into a new data directory")
        }
        do {
            try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            _ = chmod(destination, 0o700)
            try copyDataDirectory(from: source, to: destination)
            if databaseURL == nil {
                try FileManager.default.copyItem(atPath: source + "/" + databaseName, toPath: destination + "/" + databaseName)
                _ = chmod(destination + "/" + databaseName, 0o600)
            }
        } catch {
            throw ServerStartupError("cannot restore into \(destination): \(error.localizedDescription)")
        }
        let database: VouchDatabase
        do {
            database = try await VouchDatabase.open(url: databaseURL, dataDirectory: destination, logger: logger)
        } catch {
            throw ServerStartupError("\(error)")
        }
        do {
            try await AuthorityBinding.check(directory: destination, fresh: false, store: Store(database: database), location: database.location)
            await database.close()
        } catch {
            await database.close()
            throw error
        }
    }

    /// The data directory's own files: the marker, keys/ (0700, files 0600), pki/ and the admin key file.
    private static func copyDataDirectory(from source: String, to destination: String) throws {
        let files = FileManager.default
        for directory in ["keys", "pki"] {
            try files.createDirectory(atPath: destination + "/" + directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for name in try files.contentsOfDirectory(atPath: source + "/" + directory).sorted() where !name.hasPrefix(".") {
                let target = destination + "/" + directory + "/" + name
                try files.copyItem(atPath: source + "/" + directory + "/" + name, toPath: target)
                _ = chmod(target, directory == "keys" ? 0o600 : 0o644)
            }
        }
        for name in [DataDirectory.marker, "admin-api-key"] where files.fileExists(atPath: source + "/" + name) {
            try files.copyItem(atPath: source + "/" + name, toPath: destination + "/" + name)
            _ = chmod(destination + "/" + name, 0o600)
        }
    }
}
