import Foundation
import Testing

/// The directory of Debian's PostgreSQL programs (`/usr/lib/postgresql/N/bin`), or nil.
let postgresBinaries: String? = {
    let root = "/usr/lib/postgresql"
    let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
    return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
}()

/// A PostgreSQL server of the test's own: a new cluster made by `initdb` in a temporary directory,
/// started with `pg_ctl` on a free loopback port, stopped and removed when `body` returns. initdb
/// refuses to run as root, so as root the cluster belongs to the `postgres` user Debian's package makes.
func withPostgres<T>(_ body: (_ url: String) async throws -> T) async throws -> T {
    let binaries = try #require(postgresBinaries, "PostgreSQL is not installed (apt-get install postgresql)")
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-pg-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let asRoot = getuid() == 0
    if asRoot {
        let owned = try await run("/bin/chown", ["postgres:postgres", directory])
        try #require(owned.status == 0, "chown: \(owned.output)")
    }
    // Through bash, which closes every descriptor above 2 first: Foundation's Process learns that a
    // child ended when a socket it shares with the child closes, and the server pg_ctl leaves running
    // would otherwise hold that socket for as long as it runs.
    func postgres(_ tool: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let command = ((asRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + [binaries + "/" + tool] + arguments)
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let closeInherited = #"for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-"; fi; done 2>/dev/null; "#
        return try await run("/bin/bash", ["-c", closeInherited + "exec " + command])
    }
    let data = directory + "/data"
    let initialised = try await postgres("initdb", ["-D", data, "-A", "trust", "-U", "vouch", "-E", "UTF8", "--no-sync"])
    try #require(initialised.status == 0, "initdb: \(initialised.output)")

    var started: (status: Int32, output: String) = (1, "")
    var port = 0
    for _ in 0..<5 {
        port = Int.random(in: 46_000...60_000)
        // Durability is not what these tests examine: fsync off keeps them quick.
        let options = "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=50"
        started = try await postgres("pg_ctl", ["-D", data, "-l", directory + "/server.log", "-o", options, "-w", "-t", "30", "start"])
        if started.status == 0 { break }
    }
    let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
    try #require(started.status == 0, "pg_ctl start: \(started.output)\n\(log)")
    do {
        let result = try await body("postgres://vouch@127.0.0.1:\(port)/postgres?sslmode=disable")
        _ = try await postgres("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"])
        return result
    } catch {
        _ = try await postgres("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"])
        throw error
    }
}
