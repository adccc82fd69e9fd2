import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A PostgreSQL server of a test's own: a new cluster made by `initdb` in a temporary directory,
/// started with `pg_ctl` on a loopback port the kernel hands out, stopped and removed when the body
/// returns. initdb refuses to run as root, so as root the cluster belongs to the `postgres` user
/// Debian's package makes.
package enum TestPostgres {
    /// Why a server could not be had.
    package struct Unavailable: Error, CustomStringConvertible {
        package let description: String
    }

    /// The directory of Debian's PostgreSQL programs (`/usr/lib/postgresql/N/bin`), or nil.
    package static let binaries: String? = {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
    }()

    /// Runs `body` with the URL of a fresh server (`postgres://vouch@127.0.0.1:PORT/postgres`).
    package static func withServer<T>(_ body: (_ url: String) async throws -> T) async throws -> T {
        guard let binaries else { throw Unavailable(description: "PostgreSQL is not installed (apt-get install postgresql)") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let asRoot = getuid() == 0
        if asRoot {
            let owned = try await TestProgram.run("/bin/chown", ["postgres:postgres", directory])
            guard owned.status == 0 else { throw Unavailable(description: "chown: \(owned.output)") }
        }
        // Through bash, which closes every descriptor above 2 first: Foundation's Process learns that a
        // child ended when a socket it shares with the child closes, and the server pg_ctl leaves running
        // would otherwise hold that socket for as long as it runs.
        func postgres(_ tool: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
            let command = ((asRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + [binaries + "/" + tool] + arguments)
                .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
            let closeInherited = #"for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-"; fi; done 2>/dev/null; "#
            return try await TestProgram.run("/bin/bash", ["-c", closeInherited + "exec " + command])
        }
        let data = directory + "/data"
        let initialised = try await postgres("initdb", ["-D", data, "-A", "trust", "-U", "vouch", "-E", "UTF8", "--no-sync"])
        guard initialised.status == 0 else { throw Unavailable(description: "initdb: \(initialised.output)") }

        var started: (status: Int32, output: String) = (1, "")
        var port = 0
        // PostgreSQL cannot listen on port 0 and say which port it got: the kernel picks a free one
        // for a socket of ours, which is closed before the server binds it. Another program could
        // take it in between, so a failed start tries again with another.
        for _ in 0..<5 {
            port = try freeLoopbackPort()
            // Durability is not what these tests examine: fsync off keeps them quick.
            let options = "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=50"
            started = try await postgres("pg_ctl", ["-D", data, "-l", directory + "/server.log", "-o", options, "-w", "-t", "30", "start"])
            if started.status == 0 { break }
        }
        let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
        guard started.status == 0 else { throw Unavailable(description: "pg_ctl start: \(started.output)\n\(log)") }
        do {
            let result = try await body("postgres://vouch@127.0.0.1:\(port)/postgres?sslmode=disable")
            _ = try await postgres("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"])
            return result
        } catch {
            _ = try await postgres("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"])
            throw error
        }
    }

    /// A loopback TCP port the kernel considers free now (bound to port 0, read back, released).
    package static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Unavailable(description: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Unavailable(description: "bind() failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw Unavailable(description: "getsockname() failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Runs programs for tests.
package enum TestProgram {
    /// Runs a program, returning its exit status and output (stdout and stderr). Waits without holding
    /// a thread, so that a live server in the same process keeps answering the program.
    package static func run(_ executable: String, _ arguments: [String], input: String? = nil) async throws -> (status: Int32, output: String) {
        let inputPath = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-run-in-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: inputPath, contents: Data((input ?? "").utf8))
        defer { try? FileManager.default.removeItem(atPath: inputPath) }
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-run-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle(forReadingAtPath: inputPath)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        try output.close()
        return (status, try String(contentsOfFile: outputPath, encoding: .utf8))
    }
}
