import AsyncKit
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit
import Synchronization

/// The authority's database: SQLite in the data directory (the default) or PostgreSQL, reached
/// through SQLKit only, so that every query runs unchanged on both.
///
/// SQLite is used in WAL mode through one writer connection, whose transactions take turns behind
/// a lock (free of `SQLITE_BUSY`, every transaction serializable), and a few reader connections,
/// which WAL lets read the last committed state while the writer works. Each connection has a
/// thread of its own (`DatabaseThread`), on which the bodies given to `read`, `write` and
/// `transaction` run, so that no statement ever holds one of Swift's cooperative threads; statements
/// keep their prepared form (`SQLiteHandle`). One server owns a SQLite file: `localCommits` counts
/// what it committed, so caches of what only writes change can tell when to look again. PostgreSQL uses a
/// connection pool; rows that must change one writer at a time (counters, token uses) are updated
/// in place so that the row lock serializes concurrent writers, also across server nodes.
package final class VouchDatabase: Sendable {
    /// Which engine is underneath.
    package enum Engine: String, Sendable {
        case sqlite, postgres
    }

    package let engine: Engine
    /// Where the data lives, without credentials: a path for SQLite, host/port/database for PostgreSQL.
    package let location: String
    private let sqlite: SQLiteDirectDatabase?
    private let sqliteReaders: [SQLiteDirectDatabase]
    private let writerThread: DatabaseThread?
    private let readerThreads: [DatabaseThread]
    /// How many bodies each reader runs or has queued: a read goes to the least busy.
    private let readerLoad: Mutex<[Int]>
    private let commits = Atomic<Int>(0)
    /// On SQLite, this process's lock on the file (see `FileLock`).
    private let fileLock: FileLock?
    private let counterCommits = Mutex<[CounterRepository.Counter: Int]>([:])
    private let postgresBox: PostgresPool?
    private var postgres: EventLoopGroupConnectionPool<PostgresConnectionSource>? { postgresBox?.pool }
    private let lock = AsyncLock()
    private let logger: Logger

    private init(
        engine: Engine, location: String, sqlite: SQLiteDirectDatabase?, sqliteReaders: [SQLiteDirectDatabase] = [],
        postgres: EventLoopGroupConnectionPool<PostgresConnectionSource>?, fileLock: FileLock? = nil, logger: Logger
    ) {
        self.fileLock = fileLock
        self.engine = engine
        self.location = location
        self.sqlite = sqlite
        self.sqliteReaders = sqliteReaders
        self.writerThread = sqlite.map { _ in DatabaseThread(name: "vouch-sqlite-writer") }
        self.readerThreads = sqliteReaders.indices.map { DatabaseThread(name: "vouch-sqlite-reader-\($0)") }
        self.readerLoad = Mutex(Array(repeating: 0, count: sqliteReaders.count))
        self.postgresBox = postgres.map(PostgresPool.init)
        self.logger = logger
    }

    /// How many reader connections (each with its thread) SQLite gets: a slow read delays only the
    /// reads queued on its connection, and the others take the rest. More readers than cores: even
    /// with every cooperative thread waiting on a slow read, one is free.
    private static let sqliteReaderCount = max(4, ProcessInfo.processInfo.activeProcessorCount + 2)

    /// On SQLite, how many transactions and writes this server has committed (it is the only
    /// writer of its file); nil on PostgreSQL, where other nodes write too.
    package var localCommits: Int? {
        engine == .sqlite ? commits.load(ordering: .acquiring) : nil
    }

    /// On SQLite, how many committed transactions (or writes) of this server advanced `counter`
    /// (through a `Store` session); nil on PostgreSQL.
    package func localCommits(advancing counter: CounterRepository.Counter) -> Int? {
        engine == .sqlite ? counterCommits.withLock { $0[counter, default: 0] } : nil
    }

    /// Pulsed after every commit of this server that recorded events, and when the events of other
    /// nodes are taken up (see `ChangeFollower`): event streams wait on it.
    package let eventsCommitted = Pulse()

    /// Counts a commit for each counter it advanced (called once the commit is done).
    func committed(advancing counters: Set<CounterRepository.Counter>) {
        guard !counters.isEmpty else { return }
        counterCommits.withLock { commits in
            for counter in counters { commits[counter, default: 0] += 1 }
        }
    }

    /// What every connection is opened with beyond WAL. Statement journals (a multi-row insert
    /// inside a transaction needs one) are kept in memory: on disk each is a file created and
    /// deleted per transaction. There is no memory map: in WAL mode a connection unmaps the whole
    /// file whenever another has committed since its last read (and faults it in again), which under
    /// enrollments cost more than the reads it saved; pages come from the operating system's cache,
    /// which every connection shares.
    private static let connectionPragmas = ["PRAGMA busy_timeout = 5000", "PRAGMA temp_store = MEMORY"]

    /// Opens the SQLite database at `path`, creating it, in WAL mode, and takes its lock: one
    /// server process per file (`FileLock`), released by `close()`.
    package static func sqlite(path: String, logger: Logger) async throws -> VouchDatabase {
        let fileLock = try FileLock.acquire(forDatabase: path)
        let writer: SQLiteDirectDatabase
        do {
            writer = SQLiteDirectDatabase(handle: try SQLiteHandle.open(path: path), logger: logger)
            for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"] + connectionPragmas {
                try await writer.raw(SQLQueryString(pragma)).run()
            }
        } catch {
            fileLock.release()
            throw StoreError.unavailable("cannot open the SQLite database at \(path): \(error)")
        }
        // Readers open once WAL is on; they only read (query_only), so they never take the write lock.
        var readers: [SQLiteDirectDatabase] = []
        do {
            for _ in 0..<sqliteReaderCount {
                let reader = SQLiteDirectDatabase(handle: try SQLiteHandle.open(path: path), logger: logger)
                for pragma in ["PRAGMA query_only = ON"] + connectionPragmas {
                    try await reader.raw(SQLQueryString(pragma)).run()
                }
                readers.append(reader)
            }
        } catch {
            writer.handle.close()
            for reader in readers { reader.handle.close() }
            fileLock.release()
            throw StoreError.unavailable("cannot open a reader on the SQLite database at \(path): \(error)")
        }
        return VouchDatabase(
            engine: .sqlite, location: path, sqlite: writer, sqliteReaders: readers,
            postgres: nil, fileLock: fileLock, logger: logger)
    }

    /// Copies the SQLite database at `path` into the new file `destination` as it is at one commit
    /// (`VACUUM INTO` in one read transaction), through a read-only connection of its own: a server
    /// may go on writing, and keeps its lock.
    package static func copySQLite(at path: String, to destination: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError.notFound("there is no SQLite database at \(path)") }
        let handle = try SQLiteHandle.open(path: path, readOnly: true)
        defer { handle.close() }
        try handle.run("PRAGMA busy_timeout = 5000", []) { _, _ in }
        try handle.run("VACUUM INTO ?1", [.text(destination)]) { _, _ in }
    }

    /// Connects to PostgreSQL at `url` (`postgres://user:password@host:port/database`).
    package static func postgres(url: String, logger: Logger) async throws -> VouchDatabase {
        let configuration: SQLPostgresConfiguration
        do {
            configuration = try SQLPostgresConfiguration(url: url)
        } catch {
            throw StoreError.invalidConfiguration("not a PostgreSQL URL (postgres://user:password@host:5432/database): \(error)")
        }
        let pool = EventLoopGroupConnectionPool(
            source: PostgresConnectionSource(sqlConfiguration: configuration),
            maxConnectionsPerEventLoop: 4,
            logger: logger,
            on: MultiThreadedEventLoopGroup.singleton
        )
        let location: String
        if let parsed = URL(string: url) {
            location = "\(parsed.host ?? "localhost"):\(parsed.port ?? 5432)\(parsed.path)"
        } else {
            location = "postgresql"
        }
        let database = VouchDatabase(engine: .postgres, location: location, sqlite: nil, postgres: pool, logger: logger)
        do {
            _ = try await database.read { try await $0.raw("SELECT 1").all() }
        } catch {
            try? await pool.shutdownAsync()
            throw StoreError.unavailable("cannot reach PostgreSQL at \(location): \(String(reflecting: error))")
        }
        return database
    }

    /// Opens the database a `--database` URL names: `postgres://…` or `postgresql://…` for PostgreSQL,
    /// `sqlite:PATH` or a plain path for SQLite; nil means `DATA_DIR/vouch.sqlite`.
    package static func open(url: String?, dataDirectory: String, logger: Logger) async throws -> VouchDatabase {
        if let path = try sqlitePath(url: url, dataDirectory: dataDirectory) {
            return try await sqlite(path: path, logger: logger)
        }
        return try await postgres(url: url ?? "", logger: logger)
    }

    /// The SQLite file a `--database` value names (nil or empty: `DATA_DIR/vouch.sqlite`), or nil
    /// for a PostgreSQL URL.
    package static func sqlitePath(url: String?, dataDirectory: String) throws -> String? {
        guard let url, !url.isEmpty else { return dataDirectory + "/vouch.sqlite" }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") { return nil }
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else { throw StoreError.invalidConfiguration("sqlite: URL without a path") }
            return path
        }
        if url.contains("://") {
            throw StoreError.invalidConfiguration("unsupported database URL scheme in \(url.prefix(while: { $0 != ":" })); use postgres:// or sqlite:")
        }
        return url
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    package func transaction<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        switch engine {
        case .sqlite:
            let sql = sqlite!
            let thread = writerThread!
            return try await lock.withLock {
                let result = try await withTaskExecutorPreference(thread) { try await Self.inTransaction(sql, body) }
                commits.add(1, ordering: .releasing)
                return result
            }
        case .postgres:
            return try await postgres!.database(logger: logger).sql(queryLogLevel: nil).withSession { session in
                try await Self.inTransaction(session, body)
            }
        }
    }

    /// Runs one statement that needs no transaction of its own (SQLite commits it by itself; PostgreSQL
    /// too). Saves the BEGIN and COMMIT round trips on the hottest single writes.
    package func write<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        switch engine {
        case .sqlite:
            let sql = sqlite!
            let thread = writerThread!
            return try await lock.withLock {
                defer { commits.add(1, ordering: .releasing) }
                return try await withTaskExecutorPreference(thread) { try await body(sql) }
            }
        case .postgres:
            return try await body(postgres!.database(logger: logger).sql(queryLogLevel: nil))
        }
    }

    /// Runs read-only `body`: on SQLite through a reader connection, on PostgreSQL through any
    /// pooled connection. Each statement sees the last committed state, but several statements are not
    /// one snapshot: read a version counter before the data it versions, never after.
    package func read<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        switch engine {
        case .sqlite:
            let index = readerLoad.withLock { load in
                let index = load.indices.min { load[$0] < load[$1] }!
                load[index] += 1
                return index
            }
            defer { readerLoad.withLock { $0[index] -= 1 } }
            return try await withTaskExecutorPreference(readerThreads[index]) { try await body(sqliteReaders[index]) }
        case .postgres:
            return try await body(postgres!.database(logger: logger).sql(queryLogLevel: nil))
        }
    }

    /// Runs read-only `body` made of a few reads by key (index lookups of a handful of rows, which
    /// take microseconds) on the caller's own thread, through a reader connection no other body is
    /// using: it saves the hand-off to a reader thread and back, which is most of the time such a
    /// read takes. With no idle reader it goes the way of `read`. Never for a scan, a range of
    /// unbounded size or anything that can take a millisecond: that would hold a thread of Swift's
    /// cooperative pool, which has one per core.
    package func readByKey<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        switch engine {
        case .sqlite:
            let idle = readerLoad.withLock { load -> Int? in
                guard let index = load.firstIndex(of: 0) else { return nil }
                load[index] += 1
                return index
            }
            guard let index = idle else { return try await read(body) }
            defer { readerLoad.withLock { $0[index] -= 1 } }
            return try await body(sqliteReaders[index])
        case .postgres:
            return try await read(body)
        }
    }

    private static func inTransaction<R: Sendable>(
        _ sql: any SQLDatabase, _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws -> R {
        try await sql.raw("BEGIN").run()
        do {
            let result = try await body(sql)
            try await sql.raw("COMMIT").run()
            return result
        } catch {
            try? await sql.raw("ROLLBACK").run()
            throw error
        }
    }

    /// Closes connections.
    package func close() async {
        for reader in sqliteReaders {
            reader.handle.close()
        }
        sqlite?.handle.close()
        for thread in readerThreads { thread.stop() }
        writerThread?.stop()
        fileLock?.release()
        if let postgres {
            try? await postgres.shutdownAsync()
        }
    }
}

/// The pool is safe to share: `EventLoopGroupConnectionPool` guards its state with a lock and hands
/// each event loop's connections out on that loop (AsyncKit's documentation), but predates `Sendable`.
private struct PostgresPool: @unchecked Sendable {
    let pool: EventLoopGroupConnectionPool<PostgresConnectionSource>
}
