import Foundation
import Testing
import VouchTesting

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A `python3` on PATH with the official Standard Webhooks library (CI installs it), or nil.
let pythonForWebhooks = python(importing: "standardwebhooks")

/// A receiver written with the official library (PyPI standardwebhooks): it verifies each delivery
/// with the secret in `secret` and writes one JSON line per request to `received.jsonl`; while the
/// file `refuse` exists it answers 503 instead.
struct PythonWebhookReceiver {
    static let script = """
        import http.server, json, os, sys
        from standardwebhooks.webhooks import Webhook
        directory = sys.argv[1]
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                line = {"id": self.headers.get("webhook-id"), "path": self.path}
                if os.path.exists(os.path.join(directory, "refuse")):
                    line["answer"] = 503
                else:
                    secret = open(os.path.join(directory, "secret")).read().strip()
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    try:
                        payload = Webhook(secret).verify(body, headers)
                        data = payload.get("data", {})
                        line.update(answer=204, verified=True, type=payload["type"], seq=data.get("seq"), name=data.get("event", {}).get("name"))
                    except Exception as error:
                        line.update(answer=400, verified=False, error=str(error))
                with open(os.path.join(directory, "received.jsonl"), "a") as out:
                    out.write(json.dumps(line) + "\\n")
                self.send_response(line["answer"])
                self.end_headers()
            def log_message(self, *arguments):
                pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        with open(os.path.join(directory, "port.tmp"), "w") as out:
            out.write(str(server.server_address[1]))
        os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
        server.serve_forever()
        """

    let directory: URL
    let process: Process
    let port: Int

    static func start(in directory: URL) async throws -> PythonWebhookReceiver {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = directory.appendingPathComponent("receiver.py")
        try Data(Self.script.utf8).write(to: script)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(pythonForWebhooks))
        process.arguments = [script.path, directory.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: directory.appendingPathComponent("port"), encoding: .utf8), let port = Int(text) {
                return PythonWebhookReceiver(directory: directory, process: process, port: port)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        throw ReceiverDidNotStart()
    }

    struct ReceiverDidNotStart: Error {}

    var url: String { "http://127.0.0.1:\(port)/hooks/vouch" }

    /// Stops it with SIGKILL: a child of the test process may inherit SIGTERM blocked, and
    /// Python then never sees it.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func setSecret(_ secret: String) throws {
        try Data(secret.utf8).write(to: directory.appendingPathComponent("secret"))
    }

    func refuse(_ refusing: Bool) throws {
        let file = directory.appendingPathComponent("refuse")
        if refusing { try Data().write(to: file) } else { try? FileManager.default.removeItem(at: file) }
    }

    /// One request as the receiver wrote it down.
    struct Line: Decodable, Sendable {
        var id: String?
        var answer: Int
        var verified: Bool?
        var type: String?
        var name: String?
        var error: String?

        var isVerified: Bool { verified ?? false }
    }

    var received: [Line] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("received.jsonl"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
    }

    /// Waits (60 s at most) until what was received satisfies `done`.
    func wait(_ what: String, until done: ([Line]) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if done(received) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the receiver did not get \(what) within 60 s; it got \(received)")
        throw TimedOut()
    }

    struct TimedOut: Error {}
}

@Suite(
    "vouch webhook, verified by the official Standard Webhooks library",
    .enabled(if: pythonForWebhooks != nil || ProcessInfo.processInfo.environment["CI"] != nil, "needs PyPI standardwebhooks (CI installs it)")
)
struct WebhookCommandTests {
    @Test("an endpoint added with the CLI gets each event, and the official library verifies every delivery")
    func officialLibraryVerifiesDeliveries() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            let receiver = try await PythonWebhookReceiver.start(in: vouch.url("receiver"))
            defer { receiver.stop() }
            try await vouch.withServer(extraArguments: ["--webhook-allow-private"]) { server, admin in
                let connection = ["--server", server, "--api-key", admin]
                let added = try await vouch.run(["webhook", "add", receiver.url, "--kind", "group.*", "--description", "interop"] + connection)
                added.expectExit(0)
                let lines = added.standardOutput.split(separator: "\n")
                let secret = String(try #require(lines.last))
                #expect(secret.hasPrefix("whsec_"))
                let id = String(try #require(lines.first?.split(separator: " ").last))
                try receiver.setSecret(secret)
                for name in ["north", "south", "east"] {
                    try await vouch.run(["admin", "group", "create", "--name", name] + connection).expectExit(0)
                }
                try await receiver.wait("three deliveries") { $0.count >= 3 }
                let received = receiver.received
                #expect(received.allSatisfy { $0.isVerified && $0.type == "group.created" }, "\(received)")
                #expect(Set(received.compactMap(\.name)) == ["north", "south", "east"])
                #expect(Set(received.compactMap(\.id)).count == 3)
                #expect(received.allSatisfy { $0.id?.hasPrefix(id + "_") == true })

                // The CLI shows them delivered; a test message reaches the receiver too.
                let deliveries = try await vouch.run(["webhook", "deliveries", id] + connection)
                deliveries.expectExit(0)
                #expect(deliveries.standardOutput.components(separatedBy: "\tdelivered\t").count - 1 == 3, "\(deliveries)")
                let tested = try await vouch.run(["webhook", "test", id] + connection)
                tested.expectExit(0)
                #expect(tested.standardOutput.hasPrefix("delivered: HTTP 204"), "\(tested)")
                let shown = try await vouch.run(["webhook", "show", id] + connection)
                #expect(shown.standardOutput.contains("deliveries:  0 pending, 3 delivered, 0 failed"), "\(shown)")

                // Refused by the receiver: the test says so and exits 1.
                try receiver.refuse(true)
                let refused = try await vouch.run(["webhook", "test", id] + connection)
                refused.expectExit(1)
                #expect(refused.standardOutput.contains("not delivered: HTTP 503"), "\(refused)")
                try receiver.refuse(false)

                // Usage errors exit 2 before any request; the server's refusals exit 3.
                try await vouch.run(["webhook", "add", "http://127.0.0.1:9/x", "--kind", "Bad Kind"] + connection).expectUsageError(mentioning: "--kind")
                try await vouch.run(["webhook", "update", id, "--enable", "--disable"] + connection).expectUsageError(mentioning: "--enable")
                try await vouch.run(["webhook", "show", "wh_missing"] + connection).expectRefusedByServer(mentioning: "wh_missing")
                try await vouch.run(["webhook", "remove", id] + connection).expectExit(0)
                try await vouch.run(["webhook", "list"] + connection).expectExit(0)
            }
        }
    }

    @Test("deliveries pending when the server is killed with SIGKILL are each delivered after the restart; none is lost")
    func deliveriesSurviveSIGKILL() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            let receiver = try await PythonWebhookReceiver.start(in: vouch.url("receiver"))
            defer { receiver.stop() }
            try receiver.refuse(true)
            func start(port: Int) async throws -> (Process, String) {
                let log = vouch.url("serve-\(port).log")
                try Data().write(to: log)
                let output = try FileHandle(forWritingTo: log)
                let process = Process()
                process.executableURL = vouch.executable
                process.arguments = ["serve", "--port", String(port), "--data-dir", "data", "--webhook-allow-private", "--webhook-retries", "300ms,500ms,1s,1s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s"]
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
            var (process, server) = try await start(port: 0)
            defer { if process.isRunning { process.terminate() } }
            let admin = try vouch.text("data/admin-api-key").trimmingCharacters(in: .whitespacesAndNewlines)
            let connection = ["--server", server, "--api-key", admin]
            let added = try await vouch.run(["webhook", "add", receiver.url, "--kind", "group.created"] + connection)
            added.expectExit(0)
            try receiver.setSecret(String(try #require(added.standardOutput.split(separator: "\n").last)))
            let names = (0..<12).map { "killed-\($0)" }
            for name in names {
                try await vouch.run(["admin", "group", "create", "--name", name] + connection).expectExit(0)
            }
            // Every delivery has been attempted and refused at least once: all are pending.
            try await receiver.wait("a refused attempt at each delivery") { Set($0.compactMap(\.id)).count >= names.count }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(receiver.received.allSatisfy { $0.answer == 503 })

            try receiver.refuse(false)
            (process, _) = try await start(port: try #require(URLComponents(string: server)?.port))
            try await receiver.wait("each event delivered after the restart") { received in
                Set(received.filter(\.isVerified).compactMap(\.name)) == Set(names)
            }
            let delivered = receiver.received.filter(\.isVerified)
            #expect(delivered.allSatisfy { $0.type == "group.created" }, "\(delivered)")
            // The same webhook-id as the refused attempts: receivers can drop repeats.
            let refusedIDs = Set(receiver.received.filter { $0.answer == 503 }.compactMap(\.id))
            #expect(Set(delivered.compactMap(\.id)) == refusedIDs)
            process.terminate()
            process.waitUntilExit()
        }
    }
}
