import ArgumentParser
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals
import Synchronization
import VouchAPI
import VouchCore
import VouchKit

/// `vouch webhook …`: endpoints that receive the authority's events as Standard Webhooks.
struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Send the authority's events to HTTP endpoints, signed as Standard Webhooks.",
        discussion: """
            Each endpoint gets the events committed after it is added (those its --kind filters keep), each signed with \
            its own whsec_ secret (shown once), retried with backoff until it answers 2xx, at least once across restarts. \
            Changing endpoints needs an admin key; reading them a read-only key.
            """,
        subcommands: [Add.self, List.self, Show.self, Update.self, Remove.self, Test.self, Deliveries.self, Redeliver.self, Replay.self, Receive.self])

    /// Text from outside (an endpoint's answer, a sender's header) with control characters shown
    /// as `?`, so that it cannot drive the terminal.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : $0 }))
    }

    static func line(_ endpoint: WebhookView) -> String {
        let state = endpoint.enabled ? "enabled" : "disabled"
        return "\(endpoint.id)\t\(state)\t\(endpoint.url)\t\(endpoint.kinds.isEmpty ? "*" : endpoint.kinds.joined(separator: ","))"
            + (endpoint.description.isEmpty ? "" : "\t\(endpoint.description)")
    }

    static func print(_ endpoint: WebhookView) {
        Swift.print("id:          \(endpoint.id)")
        Swift.print("url:         \(endpoint.url)")
        if !endpoint.description.isEmpty { Swift.print("description: \(endpoint.description)") }
        Swift.print("events:      \(endpoint.kinds.isEmpty ? "every event" : endpoint.kinds.joined(separator: ", "))")
        Swift.print("state:       \(endpoint.enabled ? "enabled" : "disabled")\(endpoint.disabledReason.map { " (\($0))" } ?? "")")
        Swift.print("signatures:  v1 (HMAC-SHA256)\(endpoint.signV1a ? " and v1a (Ed25519; vouch webhook public key: GET /v1/webhooks/public-key)" : "")")
        if let until = endpoint.previousSecretUntil {
            Swift.print("rotation:    the previous secret is signed with too until \(RFC3339.format(Date(timeIntervalSince1970: TimeInterval(until))))")
        }
        if let since = endpoint.failingSince {
            Swift.print("failing:     every attempt since \(RFC3339.format(Date(timeIntervalSince1970: TimeInterval(since)))) failed")
        }
        if let pending = endpoint.pending {
            Swift.print("deliveries:  \(pending) pending, \(endpoint.delivered ?? 0) delivered, \(endpoint.failed ?? 0) failed")
        }
        Swift.print("through:     event \(endpoint.cursor)")
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an endpoint; prints it, and its whsec_ secret as the last line (shown once).")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The URL events are POSTed to (http or https).") var url: String
        @Option(help: "An event kind to send, or a prefix written device.*; repeat for several (default: every event).") var kind: [String] = []
        @Option(help: "What the endpoint is for.") var description: String?
        @Flag(help: "Add it disabled.") var disabled = false
        @Flag(name: .customLong("v1a"), help: "Also sign with the authority's Ed25519 key (v1a), so receivers can verify with the public key alone.")
        var v1a = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let request = WebhookRequest(url: url, description: description, kinds: try CLIInput.eventKinds(kind), enabled: !disabled, signV1a: v1a)
            let answer = try await connection.client().createWebhook(request)
            if json { return CLIOutput.json(answer) }
            WebhookCommand.print(answer.endpoint)
            Swift.print("secret (shown once):")
            Swift.print(answer.secret ?? "")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List endpoints: id, state, URL, events, description.")
        @OptionGroup var connection: AdminConnection
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let endpoints = try await connection.client().webhooks()
            if json { return CLIOutput.json(endpoints) }
            for endpoint in endpoints { Swift.print(WebhookCommand.line(endpoint)) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an endpoint and how its deliveries stand.")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The endpoint's id (wh_…).") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let endpoint = try await connection.client().webhook(id)
            if json { return CLIOutput.json(endpoint) }
            WebhookCommand.print(endpoint)
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an endpoint; with --rotate-secret prints the new secret as the last line (shown once).",
            discussion: """
                After --rotate-secret, deliveries carry signatures under both the old and the new secret for the grace period \
                (--grace, default 86400 seconds), so receivers can move to the new secret without missing a message.
                """)
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The endpoint's id (wh_…).") var id: String
        @Option(help: "A new URL.") var url: String?
        @Option(help: "Event kinds to send, replacing the current ones; repeat for several.") var kind: [String] = []
        @Flag(name: .customLong("all-events"), help: "Send every event (drop the kind filters).") var allEvents = false
        @Option(help: "A new description.") var description: String?
        @Flag(help: "Start delivering again (and forget the failures that disabled it).") var enable = false
        @Flag(help: "Stop delivering; events are kept for it until it is enabled again.") var disable = false
        @Flag(name: .customLong("v1a"), help: "Also sign with the authority's Ed25519 key.") var v1a = false
        @Flag(name: .customLong("no-v1a"), help: "Stop signing with the Ed25519 key.") var noV1a = false
        @Flag(name: .customLong("rotate-secret"), help: "Make a new secret.") var rotateSecret = false
        @Option(help: "Seconds the old secret is still signed with after --rotate-secret (0 to 604800).") var grace: Int?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if enable && disable { throw ValidationError("give --enable or --disable, not both") }
            if v1a && noV1a { throw ValidationError("give --v1a or --no-v1a, not both") }
            if allEvents && !kind.isEmpty { throw ValidationError("give --kind or --all-events, not both") }
            if grace != nil && !rotateSecret { throw ValidationError("--grace goes with --rotate-secret") }
            if let grace, !(0...604_800).contains(grace) { throw ValidationError("--grace must be 0 to 604800 seconds") }
        }

        func run() async throws {
            var request = WebhookRequest(url: url, description: description)
            if allEvents { request.kinds = [] } else if !kind.isEmpty { request.kinds = try CLIInput.eventKinds(kind) }
            if enable { request.enabled = true }
            if disable { request.enabled = false }
            if v1a { request.signV1a = true }
            if noV1a { request.signV1a = false }
            if rotateSecret {
                request.rotateSecret = true
                request.graceSeconds = grace
            }
            let answer = try await connection.client().updateWebhook(id, request)
            if json { return CLIOutput.json(answer) }
            WebhookCommand.print(answer.endpoint)
            if let secret = answer.secret {
                Swift.print("new secret (shown once):")
                Swift.print(secret)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an endpoint, with its pending deliveries and their record.")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The endpoint's id (wh_…).") var id: String

        func run() async throws {
            try await connection.client().removeWebhook(id)
            Swift.print("removed \(id)")
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send the endpoint a signed webhook.test message now and show its answer; exits 1 when it is not 2xx.")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The endpoint's id (wh_…).") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let result = try await connection.client().testWebhook(id)
            if json {
                CLIOutput.json(result)
            } else {
                let status = result.status.map { "HTTP \($0)" } ?? "no answer"
                Swift.print("\(result.delivered ? "delivered" : "not delivered"): \(status) in \(result.latencyMs) ms\(result.error.map { ": \(WebhookCommand.printable($0))" } ?? "")")
                if let response = result.response { Swift.print("answer: \(WebhookCommand.printable(String(response.prefix(200))))") }
            }
            if !result.delivered { throw ExitCode(1) }
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List an endpoint's deliveries, newest event first, with every attempt.")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The endpoint's id (wh_…).") var id: String
        @Option(help: "Deliveries of events before this sequence number (the next page).") var before: Int?
        @Option(help: "How many (1 to 500).") var limit: Int = 20
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard (1...500).contains(limit) else { throw ValidationError("--limit must be 1 to 500") }
            if let before, before < 1 { throw ValidationError("--before must be 1 or more") }
        }

        func run() async throws {
            let page = try await connection.client().webhookDeliveries(id, before: before, limit: limit)
            if json { return CLIOutput.json(page) }
            for delivery in page.deliveries {
                var line = "\(delivery.seq)\t\(delivery.type)\t\(delivery.state)\t\(delivery.attempts) attempt\(delivery.attempts == 1 ? "" : "s")"
                if let next = delivery.nextAttemptAt { line += "\tnext \(next)" }
                Swift.print(line)
                for attempt in delivery.attemptLog {
                    let answer = attempt.status.map { "HTTP \($0)" } ?? "no answer"
                    Swift.print("  #\(attempt.attempt)\t\(attempt.at)\t\(answer)\t\(attempt.latencyMs) ms\(attempt.error.map { "\t\(WebhookCommand.printable($0))" } ?? "")")
                }
            }
            if let next = page.next { Swift.print("more: --before \(next)") }
        }
    }

    struct Redeliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send one delivery again now, from the start of the retry schedule.")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The endpoint's id (wh_…).") var id: String
        @Argument(help: "The event's sequence number.") var seq: Int

        func validate() throws {
            guard seq >= 1 else { throw ValidationError("the sequence number must be 1 or more") }
        }

        func run() async throws {
            try await connection.client().redeliverWebhook(id, seq: seq)
            Swift.print("queued event \(seq) for \(id)")
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliver again every event from a sequence number on (those the endpoint's filters keep), even from before it was added.")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The endpoint's id (wh_…).") var id: String
        @Option(help: "The first event's sequence number.") var from: Int

        func validate() throws {
            guard from >= 1 else { throw ValidationError("--from must be 1 or more") }
        }

        func run() async throws {
            let result = try await connection.client().replayWebhook(id, from: from)
            Swift.print("replaying \(result.events) event\(result.events == 1 ? "" : "s") from \(result.from) to \(id)")
        }
    }

    struct Receive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a local webhook receiver that verifies each delivery and prints it (for trying endpoints out).",
            discussion: """
                Listens on --host and --port for POSTs, checks each as a Standard Webhooks receiver does (the timestamp within \
                --tolerance seconds, a signature under the secret in --secret-file or the --public-key), answers 204 and prints \
                one line per delivery: webhook-id, type, event sequence number and subject. A delivery that does not verify is \
                answered 401 and reported on standard error. A repeat of a webhook-id already printed is marked so. Runs until \
                interrupted, or until --count deliveries have verified.
                """)
        @Option(help: "The address to listen on.") var host = "127.0.0.1"
        @Option(help: "The port to listen on.") var port: Int = 9000
        @Option(name: .customLong("secret-file"), help: "A file holding the endpoint's whsec_ secret.") var secretFile: String?
        @Option(name: .customLong("public-key"), help: "The authority's whpk_ key, to verify v1a signatures (GET /v1/webhooks/public-key).")
        var publicKey: String?
        @Option(help: "Stop after this many deliveries have verified.") var count: Int?
        @Option(help: "Seconds a webhook-timestamp may be from now.") var tolerance: Int = 300

        func validate() throws {
            guard (1...65_535).contains(port) else { throw ValidationError("--port must be 1–65535") }
            if let count, count < 1 { throw ValidationError("--count must be 1 or more") }
            guard (1...86_400).contains(tolerance) else { throw ValidationError("--tolerance must be 1 to 86400 seconds") }
            guard secretFile != nil || publicKey != nil else { throw ValidationError("give --secret-file, --public-key or both") }
        }

        /// What the receiver has printed, and when it is done.
        final class Tally: Sendable {
            private let state = Mutex<(ids: Set<String>, verified: Int)>(([], 0))
            let done = AsyncStream<Void>.makeStream()

            /// Notes a verified delivery; whether its id came before.
            func note(_ id: String, limit: Int?) -> Bool {
                let (repeated, verified) = state.withLock { state in
                    let repeated = !state.ids.insert(id).inserted
                    if !repeated { state.verified += 1 }
                    return (repeated, state.verified)
                }
                if let limit, verified >= limit { done.continuation.yield() }
                return repeated
            }
        }

        func run() async throws {
            var secrets: [StandardWebhook.Secret] = []
            if let secretFile {
                secrets.append(try StandardWebhook.Secret(serialized: try CLIInput.readText(secretFile).trimmingCharacters(in: .whitespacesAndNewlines)))
            }
            let keys = try publicKey.map { [try StandardWebhook.AsymmetricKey.publicKey(serialized: $0)] } ?? []
            let verifier = StandardWebhook.Verifier(secrets: secrets, publicKeys: keys, tolerance: tolerance)
            let tally = Tally()
            let limit = count
            @Sendable func write(_ line: String, to handle: FileHandle = .standardOutput) { handle.write(Data((line + "\n").utf8)) }
            let router = Router()
            router.post("**") { request, _ -> Response in
                let body = Array((try await request.body.collect(upTo: 1 << 20)).readableBytesView)
                let header = { (name: String) in request.headers[HTTPField.Name(name)!] }
                let id = header("webhook-id")
                do {
                    try verifier.verify(id: id, timestamp: header("webhook-timestamp"), signatures: header("webhook-signature"), body: body)
                } catch {
                    write("refused \(WebhookCommand.printable(String((id ?? "(no webhook-id)").prefix(256)))): \(error)", to: .standardError)
                    return Response(status: .unauthorized)
                }
                let payload = (try? JSONValue(parsing: Data(body))) ?? .null
                let seq = payload["data"]?["seq"]?.intValue.map { "seq \($0)" } ?? "-"
                let repeated = tally.note(id ?? "", limit: limit)
                let fields = [id ?? "", payload["type"]?.stringValue ?? "?", seq, payload["data"]?["subject"]?.stringValue ?? "-"]
                write((["verified"] + fields.map { WebhookCommand.printable(String($0.prefix(256))) }).joined(separator: "\t") + (repeated ? "\t(repeat)" : ""))
                return Response(status: .noContent)
            }
            var logger = Logger(label: "vouch-webhook-receive")
            logger.logLevel = .critical
            let host = self.host
            let port = self.port
            let application = Application(
                router: router, configuration: .init(address: .hostname(host, port: port), serverName: "vouch-webhook-receive"),
                onServerRunning: { _ in write("receiving webhooks on http://\(host):\(port)/", to: .standardError) }, logger: logger)
            // Stopped gracefully after --count deliveries: the last one is answered before the listener closes.
            let services = ServiceGroup(
                configuration: .init(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await services.run() }
                if limit != nil {
                    group.addTask {
                        for await _ in tally.done.stream { break }
                        await services.triggerGracefulShutdown()
                    }
                }
                try await group.waitForAll()
            }
        }
    }
}
