import Foundation
import Testing
import VouchTesting

/// `vouch events tail`: events printed as the server commits them, from the stream.
@Suite("vouch events tail")
struct EventsCommandTests {
    @Test func eventsArePrintedAsTheyHappenAndARefusalSaysWhy() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            try await vouch.withServer { server, admin in
                let connection = ["--server", server, "--api-key", admin]
                let output = vouch.url("tail.out")
                try Data().write(to: output)
                let tail = Process()
                tail.executableURL = vouch.executable
                tail.arguments = ["events", "tail", "--kind", "group.*"] + connection
                tail.currentDirectoryURL = vouch.directory
                tail.standardOutput = try FileHandle(forWritingTo: output)
                tail.standardError = FileHandle.nullDevice
                try tail.run()
                defer {
                    tail.terminate()
                    tail.waitUntilExit()
                }
                func lines() -> [String] {
                    ((try? String(contentsOf: output, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
                }
                // It starts at the newest event once connected: groups are made until two have been
                // printed, with an API key (not a group event) made between each two.
                // A minute at most: on CI's two cores the whole suite runs beside this (a browser,
                // brokers), and the tail's start and each CLI call there can take seconds; the loop
                // stops as soon as two are printed.
                let deadline = ContinuousClock.now + .seconds(60)
                var made = 0
                while ContinuousClock.now < deadline, lines().count < 2 {
                    try await vouch.run(["admin", "group", "create", "--name", "tailed-\(made)"] + connection).expectExit(0)
                    try await vouch.run(["admin", "api-key", "create", "--name", "between-\(made)", "--scope", "read-only"] + connection).expectExit(0)
                    made += 1
                    try await Task.sleep(for: .milliseconds(20))
                }
                let printed = lines()
                #expect(printed.count >= 2 && printed.allSatisfy { $0.contains("\tgroup.created\t") && $0.contains("\tby ") }, "\(printed)")
                // Consecutive groups, each once, in order.
                let names = printed.compactMap { line in line.range(of: "\"name\":\"tailed-").map { Int(line[$0.upperBound...].prefix { $0.isNumber }) ?? -1 } }
                #expect(names.count == printed.count && names == Array((names.first ?? 0)..<((names.first ?? 0) + names.count)), "\(printed)")

                // A key that cannot read: the server's refusal, exit 3.
                let gateway = try #require(try await vouch.run(["admin", "api-key", "create", "--name", "gw", "--scope", "gateway"] + connection).lastOutputLine)
                let refused = try await vouch.run("events", "tail", "--server", server, "--api-key", gateway)
                refused.expectExit(3)
                #expect(refused.standardError.contains("HTTP 403"), "\(refused)")
                try await vouch.run(["events", "tail", "--kind", "Group!"] + connection).expectUsageError(mentioning: "is not an event kind")
            }
        }
    }
}
