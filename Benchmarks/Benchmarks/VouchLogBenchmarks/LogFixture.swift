import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import VaporCSQLite
import VouchAPI
import VouchKit
import VouchServer

/// A `vouch serve` data directory whose events table holds `events` certificate-issuance events
/// written straight into SQLite, not yet in the log; and the server started on a copy of it, whose
/// sequencer then appends them all.
enum LogData {
    /// Makes the directory: bootstraps an authority (run and stopped once), then inserts the events
    /// in one transaction: `events` of them, or with `size`, as many as make the log that long
    /// after the authority's own (bootstrap, admin key, settings: however many a start writes).
    static func template(events: Int? = nil, size: UInt64? = nil) async throws -> (directory: String, size: UInt64) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-log-bench-\(UUID().uuidString)").path
        let server = try await LogServer(dataDirectory: directory, checkpointInterval: .seconds(3600))
        await server.stop()
        var database: OpaquePointer?
        guard sqlite_nio_sqlite3_open_v2(directory + "/vouch.sqlite", &database, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let database else {
            fatalError("cannot open the template database")
        }
        defer { sqlite_nio_sqlite3_close(database) }
        func exec(_ sql: String) {
            guard sqlite_nio_sqlite3_exec(database, sql, nil, nil, nil) == SQLITE_OK else {
                fatalError("\(sql): \(String(cString: sqlite_nio_sqlite3_errmsg(database)))")
            }
        }
        exec("BEGIN")
        var query: OpaquePointer?
        sqlite_nio_sqlite3_prepare_v2(database, "SELECT value FROM counters WHERE name = 'events'", -1, &query, nil)
        guard sqlite_nio_sqlite3_step(query) == SQLITE_ROW else { fatalError("no events counter") }
        // The authority's own events (bootstrap, admin key) come first.
        let first = Int(sqlite_nio_sqlite3_column_int64(query, 0)) + 1
        sqlite_nio_sqlite3_finalize(query)
        guard let events = events ?? size.map({ Int($0) - (first - 1) }), events > 0 else {
            fatalError("a template needs a positive number of events, or a size past the authority's \(first - 1) own")
        }
        var statement: OpaquePointer?
        guard sqlite_nio_sqlite3_prepare_v2(database, "INSERT INTO events (seq, at, kind, subject, actor, data) VALUES (?, ?, ?, ?, ?, ?)", -1, &statement, nil) == SQLITE_OK
        else { fatalError("prepare failed") }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for seq in first..<first + events {
            let device = "dev_bench\(seq)"
            let serial = String(repeating: String(seq, radix: 16), count: 40).prefix(40)
            let data = #"{"notAfter":"2027-02-19T12:00:00Z","serial":"\#(serial)"}"#
            sqlite_nio_sqlite3_bind_int64(statement, 1, Int64(seq))
            sqlite_nio_sqlite3_bind_int64(statement, 2, 1_795_305_600 + Int64(seq))
            sqlite_nio_sqlite3_bind_text(statement, 3, "certificate.issued", -1, transient)
            sqlite_nio_sqlite3_bind_text(statement, 4, device, -1, transient)
            sqlite_nio_sqlite3_bind_text(statement, 5, "device:" + device, -1, transient)
            sqlite_nio_sqlite3_bind_text(statement, 6, data, -1, transient)
            guard sqlite_nio_sqlite3_step(statement) == SQLITE_DONE else {
                fatalError("inserting event \(seq) failed: \(String(cString: sqlite_nio_sqlite3_errmsg(database)))")
            }
            sqlite_nio_sqlite3_reset(statement)
        }
        sqlite_nio_sqlite3_finalize(statement)
        exec("UPDATE counters SET value = \(first + events - 1) WHERE name = 'events'")
        exec("COMMIT")
        exec("PRAGMA wal_checkpoint(TRUNCATE)")
        return (directory, UInt64(first - 1 + events))
    }

    /// A copy of `template` (the database and keys), to start a server on.
    static func copy(_ template: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-log-bench-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: template, toPath: directory)
        return directory
    }
}

/// `vouch serve` in this process on a real socket (port 0), with a client over one keep-alive
/// connection to it.
final class LogServer: Sendable {
    let dataDirectory: String
    let port: Int
    let client: VouchClient
    private let connection: TestClient
    private let server: Task<Void, any Error>

    init(dataDirectory: String, checkpointInterval: Duration) async throws {
        self.dataDirectory = dataDirectory
        var logger = Logger(label: "vouch-bench")
        logger.logLevel = .error
        let configuration = ServerConfiguration(
            port: 0, dataDirectory: dataDirectory, rateLimitPerMinute: 100_000_000, checkpointInterval: checkpointInterval)
        let instance = try await buildApplication(configuration: configuration, logger: logger)
        port = instance.port
        let application = instance.application
        server = Task { try await application.runService() }
        connection = try await ConnectionTransport.connect(port: port)
        client = VouchClient(transport: ConnectionTransport(connection: connection, port: port))
    }

    /// A GET whose answer must be 2xx (the body is not decoded: the figure is the server's).
    func get(_ path: String) async throws -> VouchResponse {
        try await client.send("GET", path)
    }

    /// The published checkpoint's size (0 before the first).
    func checkpointSize() async throws -> UInt64 {
        let answer = try await client.exchange("GET", "/v1/log/checkpoint")
        guard answer.status == 200 else { return 0 }
        let lines = answer.text.split(separator: "\n")
        return lines.count > 1 ? UInt64(lines[1]) ?? 0 : 0
    }

    /// Waits until a checkpoint covers `size` entries.
    func waitForCheckpoint(_ size: UInt64) async throws {
        while try await checkpointSize() < size {
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    func stop() async {
        try? await connection.shutdown()
        server.cancel()
        _ = try? await server.value
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
