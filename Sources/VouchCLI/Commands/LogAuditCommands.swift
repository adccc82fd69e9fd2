import ArgumentParser
import Foundation
import VouchAPI
import VouchCore
import VouchKit

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension LogCommand {
    /// `vouch log verify`: audits a Vouch server's log once.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Audit a server's transparency log: checkpoint signature, consistency, every entry's hash, the root.",
            discussion: """
                Without --state every entry is re-hashed. With --state FILE the checkpoint is proved \
                consistent with the one stored there and only the entries after it are re-hashed (all of \
                them with --full); the new state is stored (mode 0600). Exits 1 naming the entry and \
                what differed when the log does not check out.
                """
        )

        @OptionGroup var options: AuditOptions

        func run() async throws {
            let outcome = try await options.audit()
            switch outcome {
            case .success(let report):
                print("OK \(report.checkpoint.origin) verified at size \(report.checkpoint.size), root \(report.checkpoint.rootHash.base64EncodedString) (\(report.entriesVerified) entries re-hashed)")
            case .failure(let finding):
                throw failure([finding.description])
            }
        }
    }

    /// `vouch log monitor`: audits on a period and reports what it finds.
    struct Monitor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "monitor",
            abstract: "Audit a server's transparency log on a period, and post each failure to a webhook.",
            discussion: """
                Runs `vouch log verify` every --interval seconds with a state file (default \
                ./vouch-log-state.json). A failure is printed and, with --webhook, posted as JSON \
                {"event": "log.audit_failed", "log", "server", "index", "reason", "at"}; with \
                --report-verified each new verified checkpoint is posted too ("log.verified").
                """
        )

        @OptionGroup var options: AuditOptions

        @Option(help: "Seconds between audits.") var interval: Double = 60
        @Option(help: "A URL to POST findings to (JSON).") var webhook: String?
        @Flag(name: .customLong("report-verified"), help: "Also post each newly verified checkpoint.") var reportVerified = false
        @Option(help: "Stop after this many audits (0: run until stopped).") var count: Int = 0

        func validate() throws {
            guard interval >= 0.1, interval <= 86_400 else { throw ValidationError("--interval must be between 0.1 seconds and a day (86400)") }
            if let webhook {
                guard let url = URL(string: webhook), url.scheme == "http" || url.scheme == "https" else {
                    throw ValidationError("--webhook must be an http:// or https:// URL")
                }
            }
        }

        func run() async throws {
            var options = options
            if options.state == nil { options.state = "vouch-log-state.json" }
            var lastFailure: String?
            var lastOrigin: String?
            var failed = false
            var round = 0
            while count == 0 || round < count {
                round += 1
                let outcome: Result<LogAuditor.Report, LogAuditFailure>
                do {
                    outcome = try await options.audit()
                } catch let error as ValidationError {
                    throw error
                } catch let exit as ExitCode {
                    // A usage error, or the log answered a tile request with an error (printed).
                    outcome = .failure(LogAuditFailure("the audit could not run (exit \(exit.rawValue))"))
                } catch {
                    outcome = .failure(LogAuditFailure("the audit could not run: \(error)"))
                }
                let stamp = RFC3339.format(Date())
                switch outcome {
                case .success(let report):
                    lastOrigin = report.checkpoint.origin
                    print("\(stamp) OK \(report.checkpoint.origin) size \(report.checkpoint.size) root \(report.checkpoint.rootHash.base64EncodedString)")
                    lastFailure = nil
                    if reportVerified, report.entriesVerified > 0 {
                        await post([
                            "event": "log.verified", "log": .string(report.checkpoint.origin), "server": .string(options.server),
                            "size": .number(Double(report.checkpoint.size)), "root": .string(report.checkpoint.rootHash.base64EncodedString),
                            "at": .string(stamp),
                        ])
                    }
                case .failure(let failure):
                    failed = true
                    CLIOutput.error("\(stamp) FAIL \(failure.description)")
                    // Each distinct failure is posted once, not every round.
                    if failure.description != lastFailure {
                        var body: [String: JSONValue] = [
                            "event": "log.audit_failed", "server": .string(options.server), "reason": .string(failure.reason), "at": .string(stamp),
                        ]
                        if let origin = lastOrigin { body["log"] = .string(origin) }
                        if let index = failure.index { body["index"] = .number(Double(index)) }
                        await post(body)
                    }
                    lastFailure = failure.description
                }
                if count == 0 || round < count {
                    try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
                }
            }
            if failed { throw ExitCode(1) }
        }

        private func post(_ body: [String: JSONValue]) async {
            guard let webhook, let url = URL(string: webhook) else { return }
            var request = URLRequest(url: url)
            request.httpMethod = "POST"
            request.timeoutInterval = 10
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(JSONValue.object(body).canonicalJSON)
            do {
                let (_, response) = try await URLSession.shared.data(for: request)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                if !(200..<300).contains(status) { CLIOutput.error("the webhook \(webhook) answered HTTP \(status)") }
            } catch {
                CLIOutput.error("cannot post to the webhook \(webhook): \(error.localizedDescription)")
            }
        }
    }

    /// The options `verify` and `monitor` share, and the audit they run.
    struct AuditOptions: ParsableArguments {
        @Option(help: "The Vouch server's URL.") var server: String
        @Option(name: .customLong("key"), help: "The log's verifier key, <name>+<key ID>+<base64 key>; repeat for several.")
        var keys: [String]
        @Option(help: "Where the last verified checkpoint is kept between runs.") var state: String?
        @Flag(help: "Re-hash every entry, also those verified before.") var full = false

        func audit() async throws -> Result<LogAuditor.Report, LogAuditFailure> {
            let client = VouchClient(transport: try CLIInput.transport(server))
            let verifiers = try LogCommand.verifiers(keys)
            var previous: LogAuditState?
            if let state, FileManager.default.fileExists(atPath: state) {
                do {
                    previous = try JSONDecoder().decode(LogAuditState.self, from: Data(contentsOf: URL(fileURLWithPath: state)))
                } catch {
                    throw ValidationError("the state file \(state) is not a log audit state; move it away to start afresh")
                }
            }
            let outcome = try await LogAuditor(verifiers: verifiers).audit(HTTPLogSource(client: client), state: previous, full: full)
            if case .success(let report) = outcome, let state {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try AtomicFile.write(try encoder.encode(report.state), to: state, mode: 0o600, replacingExisting: true)
            }
            return outcome
        }
    }
}

/// A Vouch server's log over HTTP, where a tile the server refuses ends the audit with exit 2:
/// an unavailable log proves nothing either way.
struct HTTPLogSource: LogAuditSource {
    let log: VouchLogSource

    init(client: VouchClient) {
        log = VouchLogSource(client: client)
    }

    func checkpoint() async throws -> String { try await log.checkpoint() }

    func consistencyProof(from oldSize: UInt64, to newSize: UInt64) async throws -> [MerkleHash] {
        try await log.consistencyProof(from: oldSize, to: newSize)
    }

    func tile(_ tile: LogTile) async throws -> [UInt8]? {
        do {
            return try await log.tile(tile)
        } catch let error as VouchClientError where error.code == .refused {
            CLIOutput.error("Error: GET /v1/log/\(tile.path) answered HTTP \(error.status); the log is unavailable, which proves nothing either way")
            throw ExitCode(2)
        }
    }

    func entryIndexes(_ range: Range<UInt64>) async throws -> [UInt64] { try await log.entryIndexes(range) }
}
