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
        try DataDirectory.requireBootstrapped(root)
        try DataDirectory.requirePrivate(root, kind: "the data directory")
        let database: VouchDatabase
        do {
            database = try await VouchDatabase.open(url: databaseURL, dataDirectory: root, logger: logger)
        } catch {
            throw ServerStartupError("\(error)")
        }
        do {
            _ = try await Migrations.run(on: database, now: Int(Date().timeIntervalSince1970))
            let store = Store(database: database)
            try await AuthorityBinding.check(directory: root, fresh: false, store: store, location: database.location)
            let events = EventRecorder(clock: ServerClock())
            let (row, secret) = try await APIKeyService(store: store, events: events).create(name: "recovered admin", scope: .admin, actor: "recovery")
            try AtomicFile.write(Data((secret + "\n").utf8), to: root + "/admin-api-key", mode: 0o600, replacingExisting: true)
            await database.close()
            return (row.id, secret)
        } catch {
            await database.close()
            if let error = error as? ServerStartupError { throw error }
            throw ServerStartupError("cannot mint an admin key on \(database.location): \(error)")
        }
    }
}
