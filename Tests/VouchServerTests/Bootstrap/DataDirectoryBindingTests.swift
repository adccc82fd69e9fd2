import Foundation
import HTTPTypes
import Testing
import VouchServer

/// A data directory starts only with the database it was bootstrapped with, and one server at a
/// time uses a SQLite database.
@Suite("Data directory and database bound together")
struct DataDirectoryBindingTests {
    func refusal(_ dir: String, database: String? = nil) async -> ServerStartupError? {
        await #expect(throws: ServerStartupError.self) {
            try await withServer(dataDirectory: dir, databaseURL: database) { _, _ in }
        }
    }

    @Test func keysOnAnotherDatabaseAreRefusedAndANewDirectoryOnADatabaseInUseIsNotMade() async throws {
        try await withDataDirectory { first in
            try await withDataDirectory { second in
                try await withDataDirectory { scratch in
                    try await withServer(dataDirectory: first) { _, _ in }
                    try await withServer(dataDirectory: second) { _, _ in }
                    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)

                    // The first authority's keys on an empty database: refused, and the database is left empty.
                    let empty = await refusal(first, database: "sqlite:" + scratch + "/empty.sqlite")
                    #expect(empty?.description.contains("is empty: it is not the database this authority was bootstrapped with") == true, "\(String(describing: empty))")

                    // Its keys on the second authority's database: refused, naming both roots.
                    let other = await refusal(first, database: "sqlite:" + second + "/vouch.sqlite")
                    #expect(other?.description.contains("belongs to another one") == true, "\(String(describing: other))")

                    // A new data directory on a database in use: refused, and nothing is left of it.
                    let fresh = scratch + "/new-data"
                    let taken = await refusal(fresh, database: "sqlite:" + first + "/vouch.sqlite")
                    #expect(taken?.description.contains("already belongs to an authority") == true, "\(String(describing: taken))")
                    #expect(!FileManager.default.fileExists(atPath: fresh), "the refused start left \(fresh) behind")

                    // Each still starts with its own database, with the admin key it printed.
                    let admin = try String(contentsOfFile: first + "/admin-api-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                    try await withServer(dataDirectory: first) { client, _ in
                        let groups = try await client.call(.get, "/v1/admin/groups", apiKey: admin)
                        #expect(groups.status == 200)
                    }
                }
            }
        }
    }

    @Test func aSecondServerOnOneSQLiteDatabaseIsRefusedWithTheOwnersProcess() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let second = await refusal(dir)
                #expect(
                    second?.description.contains("another Vouch server (process \(ProcessInfo.processInfo.processIdentifier)) is using the SQLite database") == true,
                    "\(String(describing: second))")
                // The refused start changed nothing for the running one.
                let groups = try await client.call(.get, "/v1/admin/groups", apiKey: admin)
                #expect(groups.status == 200)
            }
            // Stopped, it gives the database up.
            try await withServer(dataDirectory: dir) { client, admin in
                let groups = try await client.call(.get, "/v1/admin/groups", apiKey: admin)
                #expect(groups.status == 200)
            }
        }
    }
}
