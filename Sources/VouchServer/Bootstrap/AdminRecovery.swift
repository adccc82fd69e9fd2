import Foundation
import Logging
import VouchCore
import VouchKit
import VouchStore

/// A way back in when every admin API key is lost: whoever can read the data directory (its keys
/// are the authority) mints a new admin key. The key is recorded like any other (`apikey.created`,
/// by the actor `recovery`), so the log shows that a recovery happened and when; the keys made
/// before stay as they were (revoke the lost one with `vouch admin api-key revoke`).
public enum AdminRecovery {
    /// Mints an admin API key for the authority in `dataDirectory` on its database (`databaseURL`,
    /// nil: SQLite in the data directory), writes it to `DATA_DIR/admin-api-key` (0600) and returns
    /// its id and secret. On SQLite the server must be stopped (it holds the database's lock).
    public static func mintAdminKey(dataDirectory root: String, databaseURL: String?, logger: Logger) async throws -> (id: String, secret: String) {
        try await OfflineAuthority.withStore(dataDirectory: root, databaseURL: databaseURL, logger: logger, doing: "mint an admin key") { store in
            let events = EventRecorder(clock: ServerClock())
            let (row, secret) = try await APIKeyService(store: store, events: events).create(name: "recovered admin", scope: .admin, actor: "recovery")
            try AtomicFile.write(Data((secret + "\n").utf8), to: root + "/admin-api-key", mode: 0o600, replacingExisting: true)
            return (row.id, secret)
        }
    }
}

/// The commands that work on an authority's data directory directly, with its server stopped
/// (recover, migrate-url, rotate-intermediate): its database opened, migrated and checked to belong
/// to the directory, `body` run on it, and the database closed whatever happens.
enum OfflineAuthority {
    /// Runs `body` on the store of the authority in `root` (on `databaseURL`; nil: SQLite in the data
    /// directory). An error other than a `ServerStartupError` is reported as `cannot <doing> on
    /// <database>: <error>`.
    static func withStore<T: Sendable>(
        dataDirectory root: String, databaseURL: String?, logger: Logger, now: Date = Date(), doing: String,
        _ body: (Store) async throws -> T
    ) async throws -> T {
        try DataDirectory.requireBootstrapped(root)
        try DataDirectory.requirePrivate(root, kind: "the data directory")
        let database: VouchDatabase
        do {
            database = try await VouchDatabase.open(url: databaseURL, dataDirectory: root, logger: logger)
        } catch {
            throw ServerStartupError("\(error)")
        }
        do {
            _ = try await Migrations.run(on: database, now: Int(now.timeIntervalSince1970))
            let store = Store(database: database)
            try await AuthorityBinding.check(directory: root, fresh: false, store: store, location: database.location)
            let result = try await body(store)
            await database.close()
            return result
        } catch {
            await database.close()
            if let error = error as? ServerStartupError { throw error }
            throw ServerStartupError("cannot \(doing) on \(database.location): \(error)")
        }
    }
}
