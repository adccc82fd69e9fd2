import ArgumentParser
import Foundation
import Logging
import VouchAPI
import VouchCore
import VouchKit
import VouchServer

// The rest of the admin API: groups shown, changed, disabled and enabled; API keys; a device's
// recent telemetry; the event stream; the metrics exposition.

extension AdminCommand.Group {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an enrollment group and its rules.")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The group's id or name.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let group = try await connection.client().group(id)
            if json { return CLIOutput.json(group) }
            AdminCommand.Group.describe(group)
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an enrollment group's rules; what is not given stays as it is.",
            discussion: "With --rotate-token, prints the new claim token as the last line (the old one stops working at once).")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The group's id or name.") var id: String
        @Option(name: .customLong("token-uses"), help: "How many enrollments the claim token allows from now: a number or unlimited.") var tokenUses: String?
        @Flag(name: .customLong("rotate-token"), help: "Issue a new claim token.") var rotateToken = false
        @Option(help: "auto or manual.") var approval: String?
        @Option(name: .customLong("require-attribute"), help: "An attribute devices must give (repeatable); replaces the list.") var requireAttribute: [String] = []
        @Option(help: "The zone new devices join.") var zone: String?
        @Option(name: .customLong("role"), help: "A role new devices get a credential for (repeatable); replaces the list.") var roles: [String] = []
        @Option(name: .customLong("certificate-validity"), help: "Seconds a device certificate is valid.") var certificateValidity: Int?
        @Option(name: .customLong("credential-validity"), help: "Seconds a credential is valid.") var credentialValidity: Int?
        @Option(name: .customLong("require-known-firmware"), help: "true or false: issue only to devices running registered firmware.")
        var requireKnownFirmware: Bool?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            var request = GroupRequest()
            if let tokenUses {
                if tokenUses == "unlimited" {
                    request.unlimitedTokenUses = true
                } else if let uses = Int(tokenUses), uses > 0 {
                    request.tokenUses = uses
                } else {
                    throw ValidationError("--token-uses must be a positive number or unlimited")
                }
            }
            if let approval {
                guard let mode = ApprovalMode(rawValue: approval) else {
                    throw ValidationError("--approval must be one of \(ApprovalMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                request.approval = mode
            }
            if !requireAttribute.isEmpty { request.requiredAttributes = requireAttribute }
            request.defaultZone = zone
            if !roles.isEmpty { request.defaultRoles = roles }
            request.certificateValidity = certificateValidity
            request.credentialValidity = credentialValidity
            request.requireKnownFirmware = requireKnownFirmware
            request.rotateToken = rotateToken ? true : nil
            let changed = tokenUses != nil || rotateToken || approval != nil || !requireAttribute.isEmpty || zone != nil || !roles.isEmpty
                || certificateValidity != nil || credentialValidity != nil || requireKnownFirmware != nil
            guard changed else { throw ValidationError("give at least one rule to change (see --help)") }
            let answer = try await connection.client().updateGroup(id, request)
            if json { return CLIOutput.json(answer) }
            AdminCommand.Group.describe(answer.group)
            if let token = answer.claimToken { print(token) }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an enrollment group: it enrolls nothing until enabled again.")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The group's id or name.") var id: String

        func run() async throws { try await AdminCommand.Group.set(id, enabled: false, connection: connection) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled enrollment group.")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The group's id or name.") var id: String

        func run() async throws { try await AdminCommand.Group.set(id, enabled: true, connection: connection) }
    }

    static func set(_ id: String, enabled: Bool, connection: AdminConnection) async throws {
        let group = try await connection.client().setGroup(id, enabled: enabled)
        print("group \(group.name) (\(group.id)) is \(enabled ? "enabled" : "disabled")")
    }

    /// A group for people: one fact a line.
    static func describe(_ group: GroupView) {
        let rules = group.rules
        print("group \(group.name) (\(group.id)): \(group.disabled ? "disabled" : "enabled")")
        print("attestation: \(rules.attestation.rawValue)")
        if rules.attestation == .claimToken { print("claim token: \(Plural.uses(group.tokenUsesLeft))") }
        print("approval: \(rules.approval.rawValue)")
        print("zone: \(rules.defaultZone)")
        print("roles: \(rules.defaultRoles.isEmpty ? "none" : rules.defaultRoles.joined(separator: ", "))")
        if !rules.requiredAttributes.isEmpty { print("required attributes: \(rules.requiredAttributes.joined(separator: ", "))") }
        print("certificates valid for \(rules.certificateValidity) s, credentials for \(rules.credentialValidity) s")
        if rules.requireKnownFirmware == true { print("issues only to devices running registered firmware") }
    }
}

/// Counted nouns, in the singular for one.
enum Plural {
    static func count(_ count: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
    }

    /// What is left of a claim token: "1 use left", "3 uses left", "unlimited".
    static func uses(_ left: Int?) -> String {
        left.map { count($0, "use") + " left" } ?? "unlimited"
    }
}

extension AdminCommand {
    struct APIKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "api-key", abstract: "API keys: one per person or program, with the least scope it needs.",
            discussion: """
                Scopes: admin (everything, API keys included), operator (devices, groups, firmware, policy), \
                read-only (reads), gateway (POST /v1/authorize and the reads under /v1/gateway: for brokers and gateways, never the admin key).
                """,
            subcommands: [Create.self, List.self, Revoke.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create an API key; prints it, then the secret alone as the last line (shown once).")
            @OptionGroup var connection: AdminConnection
            @Option(help: "What the key is for, such as mosquitto-broker.") var name: String
            @Option(help: "admin, operator, read-only or gateway.") var scope: String
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                guard let parsed = APIScope(rawValue: scope) else {
                    throw ValidationError("--scope must be one of \(APIScope.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let created = try await connection.client().createAPIKey(CreateAPIKey(name: name, scope: parsed))
                if json { return CLIOutput.json(created) }
                print("api key \(created.id) (\(created.name)): \(created.scope)")
                print(created.secret)
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List API keys (never their secrets).")
            @OptionGroup var connection: AdminConnection
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let keys = try await connection.client().apiKeys()
                if json { return CLIOutput.json(keys) }
                for key in keys {
                    let state = key.revokedAt.map { "revoked \(RFC3339.format(Date(timeIntervalSince1970: TimeInterval($0))))" } ?? "active"
                    print("\(key.id)\t\(key.scope)\t\(state)\t\(key.name)")
                }
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke an API key: it answers 401 from the next request on.")
            @OptionGroup var connection: AdminConnection
            @Argument(help: "The key's id (from list).") var id: String

            func run() async throws {
                try await connection.client().revokeAPIKey(id)
                print("api key \(id) is revoked")
            }
        }
    }

    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the authority's events (enrollments, revocations, alerts, responses…), oldest first.",
            discussion: "With --follow, keeps printing new events as they happen (polling every --interval seconds) until interrupted.")
        @OptionGroup var connection: AdminConnection
        @Option(help: "Only events after this sequence number.") var after: Int = 0
        @Option(help: "How many events per request (1 to 1000).") var limit: Int = 100
        @Flag(help: "Keep printing new events.") var follow = false
        @Option(help: "Seconds between polls with --follow (0.2 to 60).") var interval: Double = 1
        @Flag(help: "Print each event as a JSON line.") var json = false

        func validate() throws {
            guard after >= 0 else { throw ValidationError("--after must be 0 or more") }
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000") }
            guard interval.isFinite, (0.2...60).contains(interval) else { throw ValidationError("--interval must be from 0.2 to 60 seconds") }
        }

        func run() async throws {
            let client = try connection.client()
            var cursor = after
            while true {
                let page = try await client.events(after: cursor, limit: limit)
                var lines = ""
                for event in page.events {
                    if json {
                        guard let value = try? JSONValue(encoding: event) else { continue }
                        lines += String(decoding: value.canonicalJSON, as: UTF8.self) + "\n"
                    } else {
                        let at = RFC3339.format(Date(timeIntervalSince1970: TimeInterval(event.at)))
                        lines += "\(event.seq)\t\(at)\t\(event.kind)\t\(event.subject)\tby \(event.actor)\t\(String(decoding: event.data.canonicalJSON, as: UTF8.self))\n"
                    }
                    cursor = max(cursor, event.seq)
                }
                // Unbuffered: with --follow, whoever reads the output sees each event as it comes.
                FileHandle.standardOutput.write(Data(lines.utf8))
                if page.events.count == limit { continue }
                guard follow else { return }
                try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            }
        }
    }

    struct Recover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint a new admin API key from the data directory, when every admin key is lost.",
            discussion: """
                Reading the data directory (the authority's private keys) is the proof of authority: run it as the server's \
                user, with the server stopped when it uses SQLite. The new key is written to DATA_DIR/admin-api-key (0600) \
                and printed as the last line; the event log records it (apikey.created by recovery). Keys made before stay \
                valid: revoke a lost one with vouch admin api-key revoke.
                """)
        @OptionGroup var authority: LocalAuthority

        func run() async throws {
            let root = try authority.root()
            try await LocalAuthority.refusingStartupErrors {
                let (id, secret) = try await AdminRecovery.mintAdminKey(dataDirectory: root, databaseURL: authority.databaseURL, logger: LocalAuthority.logger)
                print("new admin API key \(id) (also in \(root)/admin-api-key, mode 0600):")
                print(secret)
            }
        }
    }

    struct CA: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ca",
            abstract: "Keep the root CA key offline, and sign the root's CRL where it is kept.",
            discussion: """
                After the bootstrap the server needs the root key only to sign the root's own CRL. export-root copies the \
                key out, signs a root CRL that runs for --crl-days and, with --remove, deletes the key from the data \
                directory: restarted, the server runs without it and serves that CRL. Before the CRL runs out (the \
                server's log warns 30 days ahead), sign the next one with sign-root-crl; the server takes it up without a \
                restart.
                """,
            subcommands: [ExportRoot.self, SignRootCRL.self, RotateIntermediate.self])

        struct RotateIntermediate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "rotate-intermediate",
                abstract: "Replace the issuing intermediate CA; the one before keeps answering for what it issued.",
                discussion: """
                    The root signs a new intermediate (the next generation, a new key and OCSP responder), which issues every \
                    certificate from the server's next start on. The one before stays (pki/intermediate-previous.pem): its \
                    CRL stays at the URL its certificates name, OCSP answers for them, devices holding them still \
                    authenticate, and the trust bundle and /v1/pki/intermediate.pem carry both. A later rotation drops it, \
                    once nothing it issued is still valid. Run it with the server stopped (on PostgreSQL: on one node, then \
                    copy the data directory to the others and restart them).
                    """)
            @OptionGroup var authority: LocalAuthority
            @Option(name: .customLong("root-key"), help: "The root CA key file, when it is kept offline (default: DATA_DIR/keys/root.key).")
            var rootKey: String?

            func run() async throws {
                let root = try authority.root()
                try await LocalAuthority.refusingStartupErrors {
                    let outcome = try await IntermediateRotation.rotate(
                        dataDirectory: root, databaseURL: authority.databaseURL, rootKeyFile: rootKey, logger: LocalAuthority.logger)
                    print("the issuing intermediate is now generation \(outcome.generation) (SHA-256 \(outcome.fingerprint)); start the server to issue with it")
                    let until = outcome.previousInUseUntil.map { " until \(RFC3339.format($0))" } ?? ""
                    print("generation \(outcome.previousGeneration) answers for the \(outcome.previousInUse) certificate\(outcome.previousInUse == 1 ? "" : "s") it issued\(until)")
                }
            }
        }

        struct ExportRoot: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "export-root", abstract: "Copy the root CA key out of the data directory and sign a long-lived root CRL.")
            @Option(name: .customLong("data-dir"), help: "The server's data directory (VOUCH_DATA_DIR).") var dataDir: String?
            @Option(help: "The file to write the root key to (PEM, mode 0600); must not exist.") var out: String
            @Flag(help: "Delete keys/root.key once the copy reads back and the root CRL is signed.") var remove = false
            @Option(name: .customLong("crl-days"), help: "How long the root CRL runs, in days (1–3650).") var crlDays = 365

            func run() async throws {
                let root = try LocalAuthority.root(dataDir)
                try await LocalAuthority.refusingStartupErrors {
                    let outcome = try RootCustody.exportRoot(dataDirectory: root, to: out, remove: remove, days: crlDays)
                    print("wrote the root CA key to \(out) (mode 0600): keep it offline")
                    print("signed a root CRL valid until \(RFC3339.format(outcome.nextUpdate)) into \(outcome.crlPath)")
                    if remove {
                        print("removed \(root)/keys/root.key: restart the server, and it runs without it")
                    } else {
                        print("the key is still in \(root)/keys/root.key: remove it (or run again with --remove) to keep it only offline")
                    }
                    print("before then: vouch admin ca sign-root-crl --data-dir \(root) --root-key \(out)")
                }
            }
        }

        struct SignRootCRL: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "sign-root-crl", abstract: "Sign the next root CRL with the root key kept offline.")
            @Option(name: .customLong("data-dir"), help: "The server's data directory (VOUCH_DATA_DIR).") var dataDir: String?
            @Option(name: .customLong("root-key"), help: "The root CA key file (from export-root; mode 0600).") var rootKey: String
            @Option(help: "How long the root CRL runs, in days (1–3650).") var days = 365

            func run() async throws {
                let root = try LocalAuthority.root(dataDir)
                try await LocalAuthority.refusingStartupErrors {
                    let outcome = try RootCustody.signRootCRL(dataDirectory: root, keyFile: rootKey, days: days)
                    print("signed a root CRL valid until \(RFC3339.format(outcome.nextUpdate)) into \(outcome.crlPath)")
                }
            }
        }
    }

    struct MigrateURL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate-url",
            abstract: "Move the authority to a new public URL, deliberately.",
            discussion: """
                The public URL is the authority's identity: its did:web, the issuer of its credentials and the CRL, OCSP \
                and status-list URLs in what it issued. The first start records it, and a start with another is refused. \
                This command records the new one and an event (authority.url-migrated, from and to); run it with the \
                server stopped, then start the server with --public-url set to the new URL. What was issued before still \
                names the old URL: keep it answering (a second name on the proxy, or a redirect) until devices have \
                renewed their certificates and credentials. The transparency log keeps its origin, which names the log.
                """)
        @OptionGroup var authority: LocalAuthority
        @Option(help: "The new public URL, such as https://vouch.example.com.") var to: String

        func run() async throws {
            let root = try authority.root()
            try await LocalAuthority.refusingStartupErrors {
                let from = try await IdentityPin.migrate(dataDirectory: root, databaseURL: authority.databaseURL, to: to, logger: LocalAuthority.logger)
                let url = try IdentityPin.normalized(to)
                print("the authority's public URL is now \(url)" + (from.isEmpty ? "" : " (was \(from))"))
                print("start it with: vouch serve --data-dir \(root) --public-url \(url)")
            }
        }
    }

    struct BackupCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup",
            abstract: "Back up the authority: its data directory and, on SQLite, its database, while the server runs.",
            discussion: """
                Writes a new directory (mode 0700) holding keys/, pki/, vouch-data.json, admin-api-key and, on SQLite, \
                vouch.sqlite: a consistent copy taken in one read transaction. It holds the authority's private keys: \
                keep it as you keep the data directory. On PostgreSQL, dump the database with pg_dump beside it.
                """)
        @OptionGroup var authority: LocalAuthority
        @Option(help: "The backup directory to make; must not exist.") var out: String

        func run() async throws {
            let root = try authority.root()
            try await LocalAuthority.refusingStartupErrors {
                let made = try Backup.make(dataDirectory: root, databaseURL: authority.databaseURL, to: out)
                print("backed up \(root) to \(made.directory)")
                if !made.includesDatabase {
                    print("the database is PostgreSQL: dump it beside the backup, such as pg_dump --format=custom --file \(made.directory)/vouch.pgdump DBNAME")
                }
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new data directory from a backup, and check that its keys and database belong together.",
            discussion: "Then start vouch serve on it (with --database for PostgreSQL, after pg_restore of the dump).")
        @Option(help: "The backup directory (from vouch admin backup).") var from: String
        @Option(name: .customLong("data-dir"), help: "The data directory to make; must not exist or be empty.") var dataDir: String
        @Option(help: "On PostgreSQL: the database the dump was restored into.") var database: String?

        func run() async throws {
            try await LocalAuthority.refusingStartupErrors {
                try await Backup.restore(from: from, to: dataDir, databaseURL: database, logger: LocalAuthority.logger)
                print("restored \(from) into \(dataDir); start it with vouch serve --data-dir \(dataDir)")
            }
        }
    }

    struct Metrics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the server's Prometheus metrics (GET /metrics).")
        @OptionGroup var connection: AdminConnection

        func run() async throws {
            let response = try await connection.client().send("GET", "/metrics")
            FileHandle.standardOutput.write(Data(response.body))
        }
    }
}

extension AdminCommand.Device {
    struct Telemetry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the last telemetry messages a device sent, newest first.")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The device id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let page = try await connection.client().recentTelemetry(of: id)
            if json { return CLIOutput.json(page) }
            if page.messages.isEmpty { print("no telemetry kept for device \(id) (the server keeps the last \(page.keep))") }
            for message in page.messages {
                guard let value = try? JSONValue(encoding: message) else { continue }
                print(String(decoding: value.canonicalJSON, as: UTF8.self))
            }
        }
    }
}

/// What the commands that work on a data directory directly (recover, backup) take: the server's
/// data directory and database, as `vouch serve` takes them.
struct LocalAuthority: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The server's data directory (VOUCH_DATA_DIR).") var dataDir: String?
    @Option(help: "The server's database, as vouch serve takes it (VOUCH_DATABASE); default SQLite in the data directory.") var database: String?

    func root() throws -> String {
        try Self.root(dataDir)
    }

    /// `--data-dir`, or else `VOUCH_DATA_DIR`.
    static func root(_ dataDir: String?) throws -> String {
        guard let root = dataDir ?? ProcessInfo.processInfo.environment["VOUCH_DATA_DIR"], !root.isEmpty else {
            throw ValidationError("give --data-dir or set VOUCH_DATA_DIR")
        }
        return root
    }

    var databaseURL: String? { database ?? ProcessInfo.processInfo.environment["VOUCH_DATABASE"] }

    static var logger: Logger {
        var logger = Logger(label: "vouch")
        logger.logLevel = .error
        return logger
    }

    /// Runs `body`; a refusal to open the authority (the reason is printed) exits 2.
    static func refusingStartupErrors(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ServerStartupError {
            CLIOutput.error("Error: \(error.description)")
            throw ExitCode(2)
        }
    }
}
