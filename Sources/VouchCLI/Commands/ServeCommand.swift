import ArgumentParser
import Foundation
import Hummingbird
import Logging
import VouchCore
import VouchKit
import VouchServer

/// `vouch serve`: the trust authority.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the trust authority (SQLite in the data directory unless --database names PostgreSQL).",
        discussion: """
            Every option can also be set with an environment variable: VOUCH_HOST, VOUCH_PORT, VOUCH_DATA_DIR, \
            VOUCH_DATABASE, VOUCH_PUBLIC_URL, VOUCH_MTLS_PORT, VOUCH_CHECKPOINT_INTERVAL, VOUCH_WITNESSES, \
            VOUCH_WITNESS_QUORUM, VOUCH_TELEMETRY_KEEP, VOUCH_MONITOR_LIMIT, VOUCH_RATE_LIMIT, VOUCH_TLS_CERT, \
            VOUCH_TLS_KEY, VOUCH_TRUSTED_PROXIES and VOUCH_LOG_LEVEL; \
            an option given on the command line wins.
            """
    )

    @Option(help: "Address to listen on (VOUCH_HOST).") var host: String?
    @Option(help: "Port to listen on; 0 for a free port, printed at start (VOUCH_PORT).") var port: Int?
    @Option(name: .customLong("data-dir"), help: "Keys, database and admin key file (VOUCH_DATA_DIR).") var dataDir: String?
    @Option(help: "postgres://user:password@host:5432/db for PostgreSQL; default SQLite in the data directory (VOUCH_DATABASE).") var database: String?
    @Option(name: .customLong("public-url"), help: "URL devices reach the server at, used in certificates and the did:web; recorded at the first start, and moved only by vouch admin migrate-url (VOUCH_PUBLIC_URL).") var publicURL: String?
    @Option(name: .customLong("mtls-port"), help: "Port of the mutual-TLS listener (VOUCH_MTLS_PORT).") var mtlsPort: Int?
    @Option(
        name: .customLong("tls-cert"),
        help: "PEM certificate chain (the server's first) for TLS on the main listener; with --tls-key (VOUCH_TLS_CERT)."
    ) var tlsCert: String?
    @Option(
        name: .customLong("tls-key"),
        help: "PEM private key of --tls-cert, a file only its owner reads (VOUCH_TLS_KEY)."
    ) var tlsKey: String?
    @Option(
        name: .customLong("checkpoint-interval"),
        help: "Seconds between transparency-log checkpoints, at least (VOUCH_CHECKPOINT_INTERVAL; default 1)."
    ) var checkpointInterval: Double?
    @Option(
        name: .customLong("witness"),
        help: "A witness's cosignature verifier key, <name>+<key ID>+<base64>; repeat for several (VOUCH_WITNESSES, space-separated)."
    ) var witnesses: [String] = []
    @Option(
        name: .customLong("witness-quorum"),
        help: "Cosignatures needed before a checkpoint is published (VOUCH_WITNESS_QUORUM; default 1 with witnesses)."
    ) var witnessQuorum: Int?
    @Option(
        name: .customLong("telemetry-keep"),
        help: "Accepted telemetry messages to keep in memory per device for operators to read (VOUCH_TELEMETRY_KEEP; default 0: none)."
    ) var telemetryKeep: Int?
    @Option(
        name: .customLong("monitor-limit"),
        help: "The most devices monitoring holds state for, about 1.6 KB each; past it, those seen longest ago are dropped (VOUCH_MONITOR_LIMIT; default 1000000)."
    ) var monitorLimit: Int?
    @Option(
        name: .customLong("rate-limit"),
        help: "Enrollment and authentication requests allowed per source address per minute (VOUCH_RATE_LIMIT; default 600)."
    ) var rateLimit: Int?
    @Option(
        name: .customLong("trusted-proxy"),
        help: """
            A reverse proxy's address or CIDR range whose X-Forwarded-For names the client, for the rate limit, monitoring \
            and policy; repeat for several (VOUCH_TRUSTED_PROXIES, comma-separated; default none: the peer is the client).
            """
    ) var trustedProxies: [String] = []
    @Option(
        name: .customLong("rabbitmq-source"),
        help: """
            An address or CIDR range RabbitMQ's HTTP auth backend asks from, answered without an API key at \
            /v1/brokers/rabbitmq/…; repeat for several (VOUCH_RABBITMQ_SOURCES, comma-separated; default none: a gateway key is needed).
            """
    ) var rabbitMQSources: [String] = []
    @Option(name: .customLong("rabbitmq-vhost"), help: "The RabbitMQ virtual host devices use (VOUCH_RABBITMQ_VHOST; default /).") var rabbitMQVhost: String?
    @Option(
        name: .customLong("rabbitmq-management"),
        help: "RabbitMQ's management API, such as http://127.0.0.1:15672, where a device that loses its rights has its connections closed (VOUCH_RABBITMQ_MANAGEMENT)."
    ) var rabbitMQManagement: String?
    @Option(
        name: .customLong("rabbitmq-credentials-file"),
        help: "A file (mode 0600) holding USER:PASSWORD of a management user with the administrator tag (VOUCH_RABBITMQ_CREDENTIALS_FILE)."
    ) var rabbitMQCredentialsFile: String?
    @Flag(
        name: .customLong("no-console"),
        help: "Do not serve /console, the operators' web interface (VOUCH_CONSOLE=0)."
    ) var noConsole = false
    @Flag(
        name: .customLong("webhook-allow-private"),
        help: """
            Deliver webhooks to private, loopback and link-local addresses too (on-premise receivers); by default they are \
            refused, so that an endpoint cannot reach inside the network (VOUCH_WEBHOOK_ALLOW_PRIVATE=1).
            """
    ) var webhookAllowPrivate = false
    @Option(
        name: .customLong("webhook-retries"),
        help: "Waits before each webhook retry, comma-separated, each a number with ms, s, m or h (VOUCH_WEBHOOK_RETRIES; default 5s,5m,30m,2h,5h,10h,10h)."
    ) var webhookRetries: String?
    @Option(
        name: .customLong("webhook-disable-after"),
        help: "Disable a webhook endpoint whose every attempt has failed for this long, such as 24h (VOUCH_WEBHOOK_DISABLE_AFTER; default 24h)."
    ) var webhookDisableAfter: String?
    @Option(
        name: .customLong("log-level"),
        help: "trace, debug, info, notice, warning, error or critical (VOUCH_LOG_LEVEL; default info)."
    ) var logLevel: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        func integer(_ value: Int?, _ name: String, default fallback: Int?) throws -> Int? {
            if let value { return value }
            guard let text = environment[name], !text.isEmpty else { return fallback }
            guard let parsed = Int(text), (0...65_535).contains(parsed) else { throw ValidationError("\(name)=\(text) is not a port number") }
            return parsed
        }
        let interval = try checkpointInterval ?? environment["VOUCH_CHECKPOINT_INTERVAL"].map { text in
            guard let value = Double(text) else { throw ValidationError("VOUCH_CHECKPOINT_INTERVAL=\(text) is not a number of seconds") }
            return value
        } ?? 1
        guard interval >= 0.01, interval <= 3600 else { throw ValidationError("the checkpoint interval must be between 0.01 and 3600 seconds") }
        let witnessKeys = witnesses.isEmpty ? (environment["VOUCH_WITNESSES"] ?? "").split(separator: " ").map(String.init) : witnesses
        let quorum = try witnessQuorum ?? environment["VOUCH_WITNESS_QUORUM"].map { text in
            guard let value = Int(text) else { throw ValidationError("VOUCH_WITNESS_QUORUM=\(text) is not a number") }
            return value
        }
        let keep = try telemetryKeep ?? environment["VOUCH_TELEMETRY_KEEP"].map { text in
            guard let value = Int(text) else { throw ValidationError("VOUCH_TELEMETRY_KEEP=\(text) is not a number") }
            return value
        } ?? 0
        guard (0...1000).contains(keep) else { throw ValidationError("--telemetry-keep must be between 0 and 1000 messages") }
        let limit = try rateLimit ?? environment["VOUCH_RATE_LIMIT"].map { text in
            guard let value = Int(text) else { throw ValidationError("VOUCH_RATE_LIMIT=\(text) is not a number") }
            return value
        } ?? 600
        guard (1...10_000_000).contains(limit) else { throw ValidationError("--rate-limit must be between 1 and 10000000 requests a minute") }
        let monitored = try monitorLimit ?? environment["VOUCH_MONITOR_LIMIT"].flatMap { $0.isEmpty ? nil : $0 }.map { text in
            guard let value = Int(text), (1_000...100_000_000).contains(value) else {
                throw ValidationError("VOUCH_MONITOR_LIMIT=\(text) must be a number of devices between 1000 and 100000000")
            }
            return value
        } ?? FleetMonitor.defaultDeviceLimit
        guard (1_000...100_000_000).contains(monitored) else { throw ValidationError("--monitor-limit must be between 1000 and 100000000 devices") }
        var configuration = ServerConfiguration(
            host: host ?? environment["VOUCH_HOST"] ?? "127.0.0.1",
            port: try integer(port, "VOUCH_PORT", default: 8080)!,
            dataDirectory: dataDir ?? environment["VOUCH_DATA_DIR"] ?? "./vouch-data",
            databaseURL: database ?? environment["VOUCH_DATABASE"],
            publicURL: publicURL ?? environment["VOUCH_PUBLIC_URL"],
            mtlsPort: try integer(mtlsPort, "VOUCH_MTLS_PORT", default: nil), rateLimitPerMinute: limit,
            checkpointInterval: .milliseconds(Int64((interval * 1000).rounded())), witnesses: witnessKeys, witnessQuorum: quorum,
            telemetryKeep: keep, monitorDeviceLimit: monitored
        )
        /// Address ranges given with `option` (repeated) or, without it, in `variable` (comma- or space-separated).
        /// Address ranges given with `option` (repeated) or, without it, in `variable` (comma- or
        /// space-separated); `check` refuses a range that parses but may not be used there.
        func ranges(
            _ given: [String], _ variable: String, _ option: String, check: (String, IPAddressRange) throws -> Void = { _, _ in }
        ) throws -> [IPAddressRange] {
            let texts = given.isEmpty ? (environment[variable] ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init) : given
            return try texts.map { text in
                let range: IPAddressRange
                do {
                    range = try IPAddressRange(text.trimmingCharacters(in: .whitespaces))
                } catch {
                    throw ValidationError("\(option) \(text): \((error as? AuthorizationError)?.reason ?? "\(error)")")
                }
                try check(text, range)
                return range
            }
        }
        configuration.trustedProxies = try ranges(trustedProxies, "VOUCH_TRUSTED_PROXIES", "--trusted-proxy") { text, range in
            // A range wider than a /8 (IPv4) or a /16 (IPv6) is not a set of proxies: any client in it
            // could name its own address.
            guard range.prefixLength >= (range.isIPv6 ? 16 : 8) else {
                throw ValidationError(
                    "--trusted-proxy \(text) trusts too many addresses (any client among them could name its own); give the proxies' addresses or a range of at most a /8 (IPv6: /16)")
            }
        }
        configuration.rabbitMQ.sources = try ranges(rabbitMQSources, "VOUCH_RABBITMQ_SOURCES", "--rabbitmq-source")
        if let vhost = rabbitMQVhost ?? environment["VOUCH_RABBITMQ_VHOST"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard vhost.utf8.count <= 255, !vhost.contains(where: \.isNewline) else { throw ValidationError("--rabbitmq-vhost is a virtual host name, at most 255 bytes") }
            configuration.rabbitMQ.vhost = vhost
        }
        if let management = rabbitMQManagement ?? environment["VOUCH_RABBITMQ_MANAGEMENT"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let url = URL(string: management), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw ValidationError("--rabbitmq-management \(management.prefix(200)) is not an http or https URL")
            }
            guard let file = rabbitMQCredentialsFile ?? environment["VOUCH_RABBITMQ_CREDENTIALS_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) else {
                throw ValidationError("--rabbitmq-management needs --rabbitmq-credentials-file: a file (mode 0600) holding USER:PASSWORD")
            }
            do {
                (configuration.rabbitMQ.managementUser, configuration.rabbitMQ.managementPassword) = try RabbitMQSettings.credentials(file: file)
            } catch {
                throw ValidationError("--rabbitmq-credentials-file: \((error as? VouchKitError)?.reason ?? error.localizedDescription)")
            }
            configuration.rabbitMQ.management = management
        }
        configuration.console = !(noConsole || ["0", "false", "no", "off"].contains(environment["VOUCH_CONSOLE"]?.lowercased() ?? ""))
        configuration.webhooks.allowPrivate = webhookAllowPrivate || ["1", "true", "yes"].contains(environment["VOUCH_WEBHOOK_ALLOW_PRIVATE"]?.lowercased() ?? "")
        if let text = webhookRetries ?? environment["VOUCH_WEBHOOK_RETRIES"].flatMap({ $0.isEmpty ? nil : $0 }) {
            do {
                configuration.webhooks.schedule = try WebhookSettings.schedule(parsing: text)
            } catch {
                throw ValidationError("--webhook-retries \(text.prefix(64)): \(error)")
            }
        }
        if let text = webhookDisableAfter ?? environment["VOUCH_WEBHOOK_DISABLE_AFTER"].flatMap({ $0.isEmpty ? nil : $0 }) {
            let waits: [Duration]
            do {
                waits = try WebhookSettings.schedule(parsing: text)
            } catch {
                throw ValidationError("--webhook-disable-after \(text.prefix(64)): \(error)")
            }
            guard waits.count == 1 else { throw ValidationError("--webhook-disable-after is one duration, such as 24h") }
            configuration.webhooks.disableAfter = waits[0]
        }
        configuration.tlsCertificateFile = tlsCert ?? environment["VOUCH_TLS_CERT"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.tlsKeyFile = tlsKey ?? environment["VOUCH_TLS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        guard (configuration.tlsCertificateFile == nil) == (configuration.tlsKeyFile == nil) else {
            throw ValidationError("give both --tls-cert and --tls-key (VOUCH_TLS_CERT, VOUCH_TLS_KEY), or neither")
        }
        guard (0...65_535).contains(configuration.port) else { throw ValidationError("--port must be 0–65535 (0: a free port the kernel chooses)") }
        var logger = Logger(label: "vouch")
        let levelText = logLevel ?? environment["VOUCH_LOG_LEVEL"].flatMap { $0.isEmpty ? nil : $0 }
        if let levelText {
            guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
                throw ValidationError(
                    "\(logLevel == nil ? "VOUCH_LOG_LEVEL" : "--log-level")=\(levelText) is not a log level; use one of "
                        + Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))
            }
            logger.logLevel = level
        } else {
            logger.logLevel = .info
        }
        do {
            try await run(try await buildApplication(configuration: configuration, logger: logger), configuration: configuration)
        } catch let error as ServerStartupError {
            FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }

    private func run(_ server: VouchServerInstance<some ApplicationProtocol>, configuration: ServerConfiguration) async throws {
        // Unbuffered: operators (and scripts) read these lines while the server runs.
        func print(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        if let key = server.newAdminKey {
            print("Bootstrapped a new authority in \(configuration.dataDirectory):")
            print("  root CA, issuing CA and OCSP responder (P-256), credential issuer \(server.did)")
            print("  admin API key (shown once; also in \(configuration.dataDirectory)/admin-api-key, mode 0600):")
            print("  \(key)")
        }
        print("transparency log verifier key: \(server.logVerifierKey)")
        // Said once the listener accepts connections: whoever reads the line may connect at once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.application.runService() }
            group.addTask {
                try await server.untilListening()
                print("vouch serving \(server.publicURL) (listening on \(configuration.host):\(server.port))")
                if configuration.console {
                    print("console: \(server.publicURL.hasSuffix("/") ? String(server.publicURL.dropLast()) : server.publicURL)/console (sign in with an API key)")
                }
            }
            try await group.waitForAll()
        }
    }
}
