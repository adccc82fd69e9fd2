import VouchTesting

/// The directory of Debian's PostgreSQL programs, or nil.
let postgresBinaries = TestPostgres.binaries

/// A PostgreSQL server of the test's own (see `TestPostgres`).
func withPostgres<T>(_ body: (_ url: String) async throws -> T) async throws -> T {
    try await TestPostgres.withServer(body)
}
