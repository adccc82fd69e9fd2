import Foundation
import Testing

/// `vouch serve` refuses numbers out of range before it opens anything, saying which and why.
@Suite("vouch serve options")
struct ServeOptionsTests {
    @Test func limitsOutOfRangeAreRefusedWithTheRange() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            for (arguments, complaint) in [
                (["--monitor-limit", "10"], "--monitor-limit must be between 1000 and 100000000 devices"),
                (["--monitor-limit", "1000000000000"], "--monitor-limit must be between 1000 and 100000000 devices"),
                (["--rate-limit", "0"], "--rate-limit must be between 1 and 10000000"),
                (["--telemetry-keep", "5000"], "--telemetry-keep must be between 0 and 1000"),
                (["--trusted-proxy", "0.0.0.0/0"], "--trusted-proxy 0.0.0.0/0 trusts too many addresses"),
                (["--trusted-proxy", "128.0.0.0/1"], "--trusted-proxy 128.0.0.0/1 trusts too many addresses"),
                (["--trusted-proxy", "::/1"], "--trusted-proxy ::/1 trusts too many addresses"),
                (["--trusted-proxy", "10.0.0.1/8"], "has host bits set below its /8 prefix"),
                (["--trusted-proxy", "proxy.local"], "is not an IP address or CIDR range"),
            ] {
                let refused = try await vouch.run(["serve", "--port", "0", "--data-dir", "data"] + arguments)
                #expect(refused.status != 0, "\(arguments): \(refused)")
                #expect(refused.standardError.contains(complaint), "\(arguments): \(refused)")
                #expect(!FileManager.default.fileExists(atPath: vouch.directory.appendingPathComponent("data").path), "\(arguments) created the data directory")
            }
        }
    }

    @Test func aBusyPortOrADatabaseInUseStopsTheStartBeforeItSaysItServes() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            try await vouch.withServer { server, _ in
                let port = try #require(server.split(separator: ":").last.map(String.init))
                let busy = try await vouch.run("serve", "--port", port, "--data-dir", "other")
                busy.expectUsageError(mentioning: "port \(port) on 127.0.0.1 is in use")
                #expect(!vouch.exists("other"), "the refused start made its data directory")
                // The running server's data directory, on another port: its database is taken.
                let twice = try await vouch.run("serve", "--port", "0", "--data-dir", "data")
                twice.expectUsageError(mentioning: "another Vouch server (process ")
                #expect(twice.standardError.contains("is using the SQLite database"), "\(twice)")
            }
        }
    }
}
