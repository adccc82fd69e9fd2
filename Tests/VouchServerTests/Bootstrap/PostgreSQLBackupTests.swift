import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Testing
import VouchAPI
import VouchCore
import VouchKit
import VouchServer
import VouchTesting

/// The README's PostgreSQL backup procedure, step by step with the real tools: `vouch admin backup`
/// of the data directory beside `pg_dump`, `pg_restore` into a new database, `vouch admin restore`
/// onto it; the restored authority serves what was backed up and its log audits clean.
@Suite(
    "PostgreSQL backup and restore",
    .enabled(if: postgresBinaries != nil || ProcessInfo.processInfo.environment["CI"] != nil, "needs PostgreSQL (CI installs it)")
)
struct PostgreSQLBackupTests {
    @Test func aDumpBesideTheDataDirectoryRestoresIntoAnAuthorityWhoseLogAuditsClean() async throws {
        let binaries = try #require(postgresBinaries)
        try await withPostgres { url in
            try await withDataDirectory { dir in
                let backup = dir + "-backup", restoredDirectory = dir + "-restored"
                defer {
                    try? FileManager.default.removeItem(atPath: backup)
                    try? FileManager.default.removeItem(atPath: restoredDirectory)
                }
                let (id, logKey) = try await withServer(dataDirectory: dir, databaseURL: url) { client, admin in
                    let (id, _) = try await RevocationTests.enroll(client, admin: admin)
                    let key = try await client.call(.get, "/v1/log/key").text.trimmingCharacters(in: .whitespacesAndNewlines)
                    // The data directory while the server runs, then the database.
                    let made = try Backup.make(dataDirectory: dir, databaseURL: url, to: backup)
                    #expect(!made.includesDatabase)
                    let dumped = try await TestProgram.run(binaries + "/pg_dump", ["--format=custom", "--file", backup + "/vouch.pgdump", "--dbname", url])
                    #expect(dumped.status == 0, "\(dumped.output)")
                    return (id, key)
                }

                // A new database, the dump restored into it, and a new data directory from the backup.
                let created = try await TestProgram.run(binaries + "/psql", ["--dbname", url, "-c", "CREATE DATABASE restored"])
                #expect(created.status == 0, "\(created.output)")
                let restoredURL = url.replacingOccurrences(of: "/postgres?", with: "/restored?")
                let loaded = try await TestProgram.run(binaries + "/pg_restore", ["--no-owner", "--dbname", restoredURL, backup + "/vouch.pgdump"])
                #expect(loaded.status == 0, "\(loaded.output)")
                try await Backup.restore(from: backup, to: restoredDirectory, databaseURL: restoredURL, logger: Logger(label: "test"))

                try await withServer(dataDirectory: restoredDirectory, databaseURL: restoredURL) { client, admin in
                    let device = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin)
                    #expect(device.status == 200, "\(device.text)")
                    #expect(try await client.call(.get, "/v1/log/key").text.trimmingCharacters(in: .whitespacesAndNewlines) == logKey)
                    let audit = try await LogAuditor(verifiers: [try NoteVerifier(verifierKey: logKey)])
                        .audit(VouchLogSource(client: client.vouch()), state: nil)
                    guard case .success(let report) = audit else {
                        Issue.record("the restored log does not audit: \(audit)")
                        return
                    }
                    #expect(report.checkpoint.size > 0 && report.entriesVerified == report.checkpoint.size)
                }
            }
        }
    }
}
