import Foundation
import VouchCore
import VouchKit

/// How `vouch serve` runs.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Where keys, the SQLite database and the admin key file live.
    public var dataDirectory: String
    /// `postgres://…` for PostgreSQL; nil for SQLite in the data directory.
    public var databaseURL: String?
    /// The URL devices and verifiers reach the server at; certificates point there for CRL and OCSP,
    /// and the server's did:web is derived from it. Defaults to `http://HOST:PORT` (https with TLS).
    public var publicURL: String?
    /// A second listener requiring client certificates issued by the authority.
    public var mtlsPort: Int?
    /// The main listener's TLS: a PEM certificate chain (the server's first) and its private key
    /// (a file only its owner reads). Nil for plain HTTP.
    public var tlsCertificateFile: String?
    public var tlsKeyFile: String?
    /// Enrollment and authentication requests allowed per source address per minute.
    public var rateLimitPerMinute: Int
    /// The shortest time between two transparency-log checkpoints.
    public var checkpointInterval: Duration
    /// Witnesses' cosignature verifier keys (`<name>+<key ID>+<base64>`, C2SP tlog-cosignature).
    public var witnesses: [String]
    /// How many of `witnesses` must cosign a checkpoint before it is published (0: none).
    public var witnessQuorum: Int
    /// How long an enrollment answer waits for a checkpoint to prove its issuance in.
    public var receiptTimeout: Duration
    /// How many accepted telemetry messages to keep in memory per device, for the console (0: none).
    public var telemetryKeep: Int
    /// The most devices monitoring holds state for (about 1.6 KB each); past it, those seen
    /// longest ago are dropped.
    public var monitorDeviceLimit: Int
    /// The authority's clock. Always the system clock when serving; simulations of a fleet over
    /// hours of simulated time (`vouch simulate` in tests) run the server on their own clock.
    public var clock: @Sendable () -> Date = { Date() }
    /// Proxies in front of the server whose `X-Forwarded-For` names the client (none: the peer is
    /// the client). The rate limit, monitoring and policy conditions then see the client's address.
    public var trustedProxies: [IPAddressRange] = []
    /// How long an event stream stays silent before it sends a heartbeat comment.
    public var eventStreamHeartbeat: Duration = .seconds(15)
    /// How webhooks are delivered.
    public var webhooks = WebhookSettings()
    /// RabbitMQ's HTTP auth backend and management API.
    public var rabbitMQ = RabbitMQSettings()
    /// Whether `/console`, the operators' web interface, is served.
    public var console = true
    /// Whether `port` is the one the kernel chose for port 0 (set by `buildApplication`): with no
    /// public URL, the authority's identity then follows the port (see `IdentityPin`).
    var portChosenByKernel = false

    public init(
        host: String = "127.0.0.1", port: Int = 8080, dataDirectory: String = "./vouch-data",
        databaseURL: String? = nil, publicURL: String? = nil, mtlsPort: Int? = nil, rateLimitPerMinute: Int = 600,
        checkpointInterval: Duration = .seconds(1), witnesses: [String] = [], witnessQuorum: Int? = nil, receiptTimeout: Duration = .seconds(5),
        telemetryKeep: Int = 0, monitorDeviceLimit: Int = FleetMonitor.defaultDeviceLimit
    ) {
        self.telemetryKeep = telemetryKeep
        self.monitorDeviceLimit = monitorDeviceLimit
        self.checkpointInterval = checkpointInterval
        self.witnesses = witnesses
        self.witnessQuorum = witnessQuorum ?? (witnesses.isEmpty ? 0 : 1)
        self.receiptTimeout = receiptTimeout
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.databaseURL = databaseURL
        self.publicURL = publicURL
        self.mtlsPort = mtlsPort
        self.rateLimitPerMinute = rateLimitPerMinute
    }

    /// The public URL without a trailing slash.
    public var resolvedPublicURL: String {
        // An IPv6 host goes in brackets (RFC 3986); the wildcard addresses name the loopback one.
        let named = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "[::1]" : host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        var url = publicURL ?? "\(tlsCertificateFile == nil ? "http" : "https")://\(named):\(port)"
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}
