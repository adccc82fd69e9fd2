import Foundation
import Testing
import VouchKit

#if canImport(FoundationNetworking)
import FoundationNetworking
import VouchTesting
#endif

private let hasSQLite3Program = FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3")

/// The transparency log with the real executables: `vouch serve`, the auditor, the witness, and the
/// SQLite database edited behind the server's back with the `sqlite3` program.
@Suite(
    "vouch log and vouch witness", .timeLimit(.minutes(5)),
    .enabled(if: hasSQLite3Program || ProcessInfo.processInfo.environment["CI"] != nil, "needs the sqlite3 program (CI installs it)")
)
struct LogWatchAndWitnessTests {
    /// Runs SQL on the server's database with the sqlite3 program (waiting for the server's writer).
    static func sql(_ vouch: VouchProcess, _ statements: String) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["-cmd", ".timeout 10000", vouch.url("data/vouch.sqlite").path, statements]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        try #require(process.terminationStatus == 0, "sqlite3 failed: \(text)")
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func get(_ url: String) async throws -> Data {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        try #require((response as? HTTPURLResponse)?.statusCode == 200, "\(url): \(String(decoding: data, as: UTF8.self))")
        return data
    }

    struct NothingPending: Error {}

    /// The size of the checkpoint awaiting cosignatures, once one bigger than `size` does (polls for
    /// up to 10 s).
    static func pendingSize(_ server: String, above size: UInt64) async throws -> UInt64 {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let (data, response) = try await URLSession.shared.data(from: URL(string: server + "/v1/log/pending")!)
            if (response as? HTTPURLResponse)?.statusCode == 200 {
                let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
                if lines.count > 1, let pending = UInt64(lines[1]), pending > size { return pending }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("no checkpoint above size \(size) awaited cosignatures within 10 s")
        throw NothingPending()
    }

    @Test func aNewcomerVerifiesAnIssuanceOfflineAndTheAuditorCatchesEditedRows() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            try await vouch.withServer(extraArguments: ["--checkpoint-interval", "0.1"]) { server, admin in
                let key = String(decoding: try await Self.get(server + "/v1/log/key"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(try vouch.text("serve.log").contains("transparency log verifier key: \(key)"))
                let group = try await vouch.run("admin", "group", "create", "--server", server, "--api-key", admin, "--name", "line-7")
                group.expectExit(0)
                let token = try #require(group.lastOutputLine)
                try await vouch.run("device", "enroll", "--server", server, "--group", "line-7", "--token", token, "--dir", "dev").expectExit(0)

                // The enrollment left receipts that verify offline with the log's key alone.
                #expect(vouch.exists("dev/log-receipts.json"))
                let offline = try await vouch.run("log", "verify-inclusion", "--receipt", "dev/log-receipts.json", "--key", key)
                offline.expectExit(0)
                #expect(offline.standardOutput.contains("\"kind\":\"certificate.issued\""), "\(offline)")
                let receipts = try JSONDecoder().decode([LogReceipt].self, from: try vouch.data("dev/log-receipts.json"))
                let certificateIndex = receipts[0].index

                // The same proof fetched later from the server verifies too; a wrong key does not.
                try vouch.write(try await Self.get(server + "/v1/log/proof/inclusion?index=\(certificateIndex)"), to: "proof.json")
                try await vouch.run("log", "verify-inclusion", "--receipt", "proof.json", "--key", key).expectExit(0)
                let stranger = try NoteSigner.generate(name: String(key.prefix { $0 != "+" })).verifierKey
                try await vouch.run("log", "verify-inclusion", "--receipt", "proof.json", "--key", stranger)
                    .expectVerificationFailure(mentioning: "no signature by a trusted key")
                try await vouch.run("log", "verify-inclusion", "--receipt", "serve.log", "--key", key).expectUsageError(mentioning: "not a log receipt")

                // The auditor re-hashes everything, then keeps state and re-hashes only what is new.
                let audit = try await vouch.run("log", "verify", "--server", server, "--key", key, "--state", "audit.json")
                audit.expectExit(0)
                #expect(audit.standardOutput.hasPrefix("OK "), "\(audit)")
                #expect(try vouch.permissions("audit.json") == 0o600)
                try await vouch.run("log", "verify", "--server", server, "--key", key, "--state", "audit.json").expectExit(0)
                try await vouch.run("log", "verify", "--server", server, "--key", stranger).expectVerificationFailure(mentioning: "does not verify")

                // Edited rows are caught and named by index: a changed entry, a deleted one, two swapped.
                let seq = certificateIndex + 1
                let original = try await Self.sql(vouch, "SELECT data FROM events WHERE seq = \(seq)")
                _ = try await Self.sql(vouch, "UPDATE events SET data = replace(data, 'notAfter', 'notafter') WHERE seq = \(seq)")
                try await vouch.run("log", "verify", "--server", server, "--key", key)
                    .expectVerificationFailure(mentioning: "entry \(certificateIndex): the entry hashes to")
                _ = try await Self.sql(vouch, "UPDATE events SET data = '\(original)' WHERE seq = \(seq)")
                try await vouch.run("log", "verify", "--server", server, "--key", key).expectExit(0)

                _ = try await Self.sql(vouch, "CREATE TABLE saved AS SELECT * FROM events WHERE seq = \(seq); DELETE FROM events WHERE seq = \(seq)")
                try await vouch.run("log", "verify", "--server", server, "--key", key)
                    .expectVerificationFailure(mentioning: "entry \(certificateIndex): the entry is missing")
                _ = try await Self.sql(vouch, "INSERT INTO events SELECT * FROM saved; DROP TABLE saved")

                let swap = "UPDATE events SET seq = -1 WHERE seq = \(seq); UPDATE events SET seq = \(seq) WHERE seq = \(seq + 1); UPDATE events SET seq = \(seq + 1) WHERE seq = -1"
                _ = try await Self.sql(vouch, swap)
                try await vouch.run("log", "verify", "--server", server, "--key", key)
                    .expectVerificationFailure(mentioning: "entry \(certificateIndex): the entry hashes to")
                _ = try await Self.sql(vouch, swap)
                try await vouch.run("log", "verify", "--server", server, "--key", key, "--state", "audit.json", "--full").expectExit(0)

                // The monitor posts a failure to its webhook.
                let hook = try WebhookReceiver()
                let monitor = try await vouch.run(
                    "log", "monitor", "--server", server, "--key", stranger, "--count", "1", "--state", "m.json", "--webhook", "http://127.0.0.1:\(hook.port)/hook")
                monitor.expectVerificationFailure(mentioning: "FAIL the checkpoint does not verify")
                let request = try #require(hook.received(), "the webhook got nothing: \(monitor)")
                #expect(request.hasPrefix("POST /hook "), "\(request)")
                let body = try JSONValue(parsing: Data(String(request[request.range(of: "\r\n\r\n")!.upperBound...]).utf8))
                #expect(body["event"]?.stringValue == "log.audit_failed")
                #expect(body["reason"]?.stringValue?.contains("does not verify") == true)
                #expect(body["server"]?.stringValue == server)
            }
        }
    }

    @Test func aWitnessCosignsConsistentCheckpointsAndRefusesAFork() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            let keygen = try await vouch.run("witness", "keygen", "--name", "witness.example", "--out", "witness.key")
            keygen.expectExit(0)
            let witnessKey = try #require(keygen.lastOutputLine)
            #expect(try vouch.permissions("witness.key") == 0o600)
            try await vouch.run("witness", "keygen", "--name", "witness.example", "--out", "witness.key").expectUsageError()

            try await vouch.withServer(extraArguments: ["--checkpoint-interval", "0.1", "--witness", witnessKey, "--witness-quorum", "1"]) { server, admin in
                let key = String(decoding: try await Self.get(server + "/v1/log/key"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                // Nothing is published before the witness cosigns.
                var pending = false
                for _ in 0..<50 where !pending {
                    try await Task.sleep(for: .milliseconds(100))
                    let (_, response) = try await URLSession.shared.data(from: URL(string: server + "/v1/log/pending")!)
                    pending = (response as? HTTPURLResponse)?.statusCode == 200
                }
                #expect(pending)
                let (_, unpublished) = try await URLSession.shared.data(from: URL(string: server + "/v1/log/checkpoint")!)
                #expect((unpublished as? HTTPURLResponse)?.statusCode == 404)

                let first = try await vouch.run("witness", "--log", server, "--key", key, "--witness-key", "witness.key", "--once")
                first.expectExit(0)
                #expect(first.standardOutput.contains("(published)"), "\(first)")
                let checkpoint = String(decoding: try await Self.get(server + "/v1/log/checkpoint"), as: UTF8.self)
                #expect(checkpoint.contains("— witness.example "), "\(checkpoint)")
                try vouch.write(checkpoint, to: "checkpoint.txt")
                try await vouch.run("log", "verify-checkpoint", "--key", key, "checkpoint.txt").expectExit(0)
                let firstSize = try #require(UInt64(checkpoint.split(separator: "\n")[1]))

                // More events, a new pending checkpoint: the witness proves consistency and cosigns it.
                try await vouch.run("admin", "group", "create", "--server", server, "--api-key", admin, "--name", "more").expectExit(0)
                let secondSize = try await Self.pendingSize(server, above: firstSize)
                let second = try await vouch.run("witness", "--log", server, "--key", key, "--witness-key", "witness.key", "--once")
                second.expectExit(0)
                #expect(second.standardOutput.contains("checkpoint \(secondSize) root"), "\(second)")
                let state = try JSONDecoder().decode(WitnessState.self, from: try vouch.data("witness.key.state"))
                #expect(state.size == secondSize)

                // With nothing pending, --once says so and cosigns nothing.
                let idle = try await vouch.run("witness", "--log", server, "--key", key, "--witness-key", "witness.key", "--once")
                idle.expectExit(0)
                #expect(idle.standardOutput.contains("no checkpoint awaits cosignatures"), "\(idle)")

                // A witness that remembers another history at that size sees a fork and refuses.
                try await vouch.run("admin", "group", "create", "--server", server, "--api-key", admin, "--name", "forked").expectExit(0)
                _ = try await Self.pendingSize(server, above: secondSize)
                var forked = state
                forked.root = MerkleHash.leafHash(Array("another history".utf8)).base64EncodedString
                try vouch.write(try JSONEncoder().encode(forked), to: "witness.key.state")
                try await vouch.run("witness", "--log", server, "--key", key, "--witness-key", "witness.key", "--once")
                    .expectVerificationFailure(mentioning: "FORK")
            }
        }
    }

    struct WitnessState: Codable {
        var origin: String
        var size: UInt64
        var root: String
    }

    @Test func aServerKilledMidBatchRestartsConsistentWithEveryCheckpointAndLosesNoAcknowledgedEvent() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            // The first start takes a free port (port 0); the restart asks for the same one, so
            // the public URL, and with it the log's origin, stay the same.
            func start(port: Int) async throws -> (Process, String) {
                let log = vouch.url("serve-\(port).log")
                try Data().write(to: log)
                let output = try FileHandle(forWritingTo: log)
                let process = Process()
                process.executableURL = vouch.executable
                process.arguments = ["serve", "--port", String(port), "--data-dir", "data", "--checkpoint-interval", "0.02"]
                process.currentDirectoryURL = vouch.directory
                process.standardOutput = output
                process.standardError = output
                try process.run()
                do {
                    return (process, try await VouchProcess.servingURL(of: process, log: log))
                } catch {
                    process.terminate()
                    throw error
                }
            }
            let first = try await start(port: 0)
            var process = first.0
            let server = first.1
            defer { if process.isRunning { process.terminate() } }
            let admin = try vouch.text("data/admin-api-key").trimmingCharacters(in: .whitespacesAndNewlines)
            let key = String(decoding: try await Self.get(server + "/v1/log/key"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let verifier = try NoteVerifier(verifierKey: key)

            // Writers create groups (one event each) as fast as they can; checkpoints are collected
            // as they are published; then the server is killed without warning.
            let acknowledged = AcknowledgedNames()
            let observed = ObservedCheckpoints()
            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for writer in 0..<8 {
                        group.addTask {
                            for round in 0..<100_000 {
                                let name = "w\(writer)-\(round)"
                                var request = URLRequest(url: URL(string: server + "/v1/admin/groups")!)
                                request.httpMethod = "POST"
                                request.setValue("Bearer \(admin)", forHTTPHeaderField: "Authorization")
                                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                                request.httpBody = Data(#"{"name":"\#(name)"}"#.utf8)
                                guard let (_, response) = try? await URLSession.shared.data(for: request) else { return }
                                if (response as? HTTPURLResponse)?.statusCode == 201 { await acknowledged.add(name) }
                            }
                        }
                    }
                    group.addTask {
                        while true {
                            guard let (data, _) = try? await URLSession.shared.data(from: URL(string: server + "/v1/log/checkpoint")!) else { return }
                            if let checkpoint = try? Checkpoint.verify(signedNote: String(decoding: data, as: UTF8.self), verifiers: [verifier]).get() {
                                await observed.add(checkpoint)
                            }
                            try? await Task.sleep(for: .milliseconds(5))
                        }
                    }
                }
            }
            // Kill once there is load worth the name (the machine may be busy with other tests).
            for _ in 0..<600 {
                try await Task.sleep(for: .milliseconds(100))
                if await acknowledged.names.count >= 100, await observed.checkpoints.count >= 5 { break }
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            _ = await load.value
            let names = await acknowledged.names
            let checkpoints = await observed.checkpoints
            #expect(names.count > 20, "too little load to test anything: \(names.count) groups")
            #expect(checkpoints.count > 3)

            (process, _) = try await start(port: try #require(URLComponents(string: server)?.port))
            // Every acknowledged event reaches the log.
            let events = Int(try await Self.sql(vouch, "SELECT max(seq) FROM events")) ?? 0
            var latest: Checkpoint?
            for _ in 0..<200 {
                let note = String(decoding: try await Self.get(server + "/v1/log/checkpoint"), as: UTF8.self)
                latest = try Checkpoint.verify(signedNote: note, verifiers: [verifier]).get()
                if latest!.size >= UInt64(events) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let final = try #require(latest)
            #expect(final.size >= UInt64(events))
            // The restarted tree is consistent with every checkpoint published before the kill.
            for checkpoint in checkpoints where checkpoint.size > 0 {
                let answer = try JSONValue(parsing: try await Self.get(server + "/v1/log/proof/consistency?from=\(checkpoint.size)&to=\(final.size)"))
                let hashes = try answer["proof"]!.arrayValue.map { try MerkleHash(base64Encoded: $0.stringValue!) }
                let verdict = try ConsistencyProof(oldSize: checkpoint.size, newSize: final.size, hashes: hashes)
                    .verify(oldRoot: checkpoint.rootHash, newRoot: final.rootHash)
                #expect(verdict == .valid, "checkpoint \(checkpoint.size) is not a prefix of \(final.size)")
            }
            // And every acknowledged group's event is an entry of the log that the auditor re-hashes.
            var logged: Set<String> = []
            var start: UInt64 = 0
            while start < final.size {
                let end = min(start + 1000, final.size)
                let page = try JSONValue(parsing: try await Self.get(server + "/v1/log/entries?start=\(start)&end=\(end)"))
                for entry in page["entries"]!.arrayValue {
                    let event = try JSONValue(parsing: Data(entry["entry"]!.stringValue!.utf8))
                    if event["kind"]?.stringValue == "group.created", let name = event["data"]?["name"]?.stringValue { logged.insert(name) }
                }
                start = end
            }
            #expect(names.subtracting(logged).isEmpty, "acknowledged but not logged: \(names.subtracting(logged).sorted().prefix(10))")
            try await vouch.run("log", "verify", "--server", server, "--key", key).expectExit(0)
            process.terminate()
            process.waitUntilExit()
        }
    }
}

actor AcknowledgedNames {
    var names: Set<String> = []
    func add(_ name: String) { names.insert(name) }
}

actor ObservedCheckpoints {
    var checkpoints: [Checkpoint] = []
    func add(_ checkpoint: Checkpoint) {
        if checkpoints.last?.size != checkpoint.size { checkpoints.append(checkpoint) }
    }
}

/// A one-request HTTP endpoint on a loopback port: takes one POST, answers 204, keeps the request.
final class WebhookReceiver: @unchecked Sendable {
    let port: Int
    private let socket: Int32
    private let thread: Thread
    private let done = DispatchSemaphore(value: 0)
    /// Written by the thread before it signals `done`, read after.
    private final class Box: @unchecked Sendable { var request: String? }
    private let box = Box()

    init() throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 1) == 0 else {
            close(fd)
            throw CancellationError()
        }
        socket = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let socket = fd
        let box = box
        let done = done
        thread = Thread {
            let connection = accept(socket, nil, nil)
            guard connection >= 0 else { done.signal(); return }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            // Read the head, then the body its Content-Length announces.
            while true {
                let count = read(connection, &buffer, buffer.count)
                if count <= 0 { break }
                bytes.append(contentsOf: buffer[0..<count])
                let text = String(decoding: bytes, as: UTF8.self)
                if let end = text.range(of: "\r\n\r\n") {
                    let head = text[..<end.lowerBound].lowercased()
                    let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                    if text.utf8.count - text[..<end.upperBound].utf8.count >= length { break }
                }
            }
            box.request = String(decoding: bytes, as: UTF8.self)
            let answer = Array("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".utf8)
            _ = write(connection, answer, answer.count)
            close(connection)
            done.signal()
        }
        thread.start()
    }

    /// The request, once it came (waits up to 10 s).
    func received() -> String? {
        _ = done.wait(timeout: .now() + 10)
        return box.request
    }

    deinit {
        close(socket)
    }
}
