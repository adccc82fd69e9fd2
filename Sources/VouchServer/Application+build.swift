import Foundation
import Hummingbird
import Logging
import NIOSSL
import ServiceLifecycle
import Synchronization
import VouchKit
import VouchStore
import X509

/// The running server: the application plus what callers may want to know about it.
public struct VouchServerInstance<App: ApplicationProtocol> {
    public let application: App
    /// The admin API key created by this start (first start only).
    public let newAdminKey: String?
    public let publicURL: String
    /// The port the main listener binds: the configured one, or the one chosen for port 0.
    public let port: Int
    public let did: String
    /// The transparency log's verifier key (C2SP signed-note form), for `vouch log verify --key`.
    public let logVerifierKey: String
    /// Every route, as `METHOD /path` with `{parameter}` captures (the OpenAPI test reads it).
    public let routes: [String]
    let boundMTLSPort: BoundPort?
    /// Holds the port chosen for port 0 until the listener binds it.
    let reservation: PortReservation?
    /// Set once the main listener accepts connections.
    let listening: BoundPort

    /// Returns once the main listener accepts connections (while `application.runService()` runs);
    /// throws when cancelled first (the server failed to start, or was stopped).
    public func untilListening() async throws {
        while listening.current == nil {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The port the mTLS listener bound (useful with `--mtls-port 0`), once it runs; nil without one.
    public var mtlsPort: Int? {
        get async throws {
            guard let boundMTLSPort else { return nil }
            return try await boundMTLSPort.value()
        }
    }
}

extension VouchServerInstance: Sendable where App: Sendable {}

/// Builds the server on the data directory: bootstraps or loads the authority, opens the database,
/// and, with an mTLS port, adds the listener that takes client certificates. With port 0 the kernel
/// chooses a free port first, and the public URL (unless configured) names that port.
public func buildApplication(
    configuration: ServerConfiguration, logger: Logger = Logger(label: "vouch")
) async throws -> VouchServerInstance<some ApplicationProtocol> {
    // TLS and the ports first: a bad certificate or a busy port stops the start before the
    // authority loads or anything is printed.
    let server = try MainListenerTLS.server(configuration)
    let reservation = try PortReservation(host: configuration.host, port: configuration.port)
    let mtlsReservation = try configuration.mtlsPort.flatMap { $0 == 0 ? nil : try PortReservation(host: configuration.host, port: $0) }
    let configuration = {
        var resolved = configuration
        resolved.port = reservation.port
        resolved.portChosenByKernel = configuration.port == 0
        return resolved
    }()
    let loaded = try await ServerLoader.load(configuration: configuration, logger: logger)
    if !configuration.trustedProxies.isEmpty {
        logger.info("believing X-Forwarded-For from trusted proxies", metadata: ["http.trusted_proxies": "\(configuration.trustedProxies.map(\.description))"])
    }
    let vouch = loaded.services
    try await vouch.changes.start()
    let router = try buildRouter(services: vouch, configuration: configuration)
    var services: [any Service] = [
        DatabaseService(log: vouch.log, changes: vouch.changes, store: vouch.store),
        Responder(responses: vouch.monitoring.responses, lifecycle: vouch.lifecycle, store: vouch.store, events: vouch.events, logger: logger),
        // After the database's service, so that it stops first (services stop in reverse order).
        WebhookDispatcher(webhooks: vouch.webhooks),
    ]
    if let management = configuration.rabbitMQ.management {
        services.append(RabbitMQCloser(store: vouch.store, settings: configuration.rabbitMQ, management: management, logger: logger))
    }
    var boundMTLSPort: BoundPort?
    if let mtlsPort = configuration.mtlsPort {
        let hosts = [configuration.host, URL(string: vouch.publicURL)?.host ?? "", "localhost", "127.0.0.1", "::1"]
        let tls = try await TLSConfiguration.mtlsListener(issuance: vouch.issuance, hosts: hosts)
        let deviceAuth = vouch.deviceAuth
        let bound = BoundPort()
        boundMTLSPort = bound
        // Devices reach the mTLS listener directly (a proxy cannot end their TLS): no forwarded
        // address is believed there.
        var mtlsRouter = router
        mtlsRouter.proxies = TrustedProxies(ranges: [])
        services.append(
            Application(
                router: mtlsRouter,
                server: .mtls(tlsConfiguration: tls) { await deviceAuth.decideClientChain($0)?.alert },
                configuration: .init(address: .hostname(configuration.host, port: mtlsPort), serverName: "vouch"),
                onServerRunning: { channel in
                    mtlsReservation?.release()
                    bound.set(channel.localAddress?.port)
                    logger.info("mTLS listener on \(configuration.host):\(channel.localAddress?.port ?? mtlsPort)")
                },
                logger: logger
            )
        )
    }
    let listening = BoundPort()
    let app = Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "vouch"),
        services: services,
        onServerRunning: { channel in
            reservation.release()
            listening.set(channel.localAddress?.port ?? configuration.port)
        },
        logger: logger
    )
    return VouchServerInstance(
        application: app, newAdminKey: loaded.newAdminKey, publicURL: vouch.publicURL, port: configuration.port, did: vouch.did.description,
        logVerifierKey: vouch.log.signer.verifierKey,
        // HEAD is generated for every GET route; the description has the GET.
        routes: router.routes.filter { $0.method != .head }.map { "\($0.method.rawValue) \($0.path)" }, boundMTLSPort: boundMTLSPort,
        reservation: reservation, listening: listening
    )
}

/// A port that becomes known once a listener runs.
final class BoundPort: Sendable {
    private let state = Mutex<(port: Int?, waiters: [CheckedContinuation<Int, Never>])>((nil, []))

    /// The port, once known.
    var current: Int? { state.withLock { $0.port } }

    func set(_ port: Int?) {
        guard let port else { return }
        let waiters = state.withLock { state in
            state.port = port
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    func value() async throws -> Int {
        await withCheckedContinuation { continuation in
            let known: Int? = state.withLock { state in
                if let port = state.port { return port }
                state.waiters.append(continuation)
                return nil
            }
            if let known { continuation.resume(returning: known) }
        }
    }
}

/// The routes: public PKI and status, the device API, the admin API.
func buildRouter(services: VouchServices, configuration: ServerConfiguration) throws -> VouchRouter {
    let metrics = ServerMetrics()
    // HEAD answers as GET does, without the body (RFC 9110 §9.3.2).
    let router = Router(context: VouchRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    router.add(middleware: ProblemMiddleware())
    // Public reads cost little each but are open to everyone: ten times the authenticated limit.
    let publicLimiter = RateLimiter(perMinute: min(configuration.rateLimitPerMinute, Int.max / 10) * 10, clock: services.clock)
    let limiter = RateLimiter(perMinute: configuration.rateLimitPerMinute, clock: services.clock)
    let publicController = PublicController(
        issuance: services.issuance, devices: services.lifecycle, apiKeys: services.apiKeys, metrics: metrics, monitoring: services.monitoring,
        log: services.log, limiter: publicLimiter)
    router.addRoutes(publicController.endpoints)
    router.addRoutes(
        EnrollmentController(
            enrollment: services.enrollment, nonces: services.nonces, issuance: services.issuance, deviceAuth: services.deviceAuth, limiter: limiter,
            metrics: metrics
        ).endpoints, atPath: "/v1/enrollments")
    router.addRoutes(
        DeviceController(
            deviceAuth: services.deviceAuth, nonces: services.nonces, enrollment: services.enrollment, issuance: services.issuance,
            monitoring: services.monitoring, apiKeys: services.apiKeys, limiter: limiter, metrics: metrics
        ).endpoints, atPath: "/v1")
    let telemetry = TelemetryController(telemetry: services.telemetry, deviceAuth: services.deviceAuth, apiKeys: services.apiKeys, metrics: metrics)
    router.addRoutes(telemetry.endpoints, atPath: "/v1/telemetry")
    router.addRoutes(telemetry.adminEndpoints, atPath: "/v1/admin")
    let firmware = FirmwareController(firmware: services.firmware, deviceAuth: services.deviceAuth, apiKeys: services.apiKeys)
    router.addRoutes(firmware.deviceEndpoints, atPath: "/v1/devices")
    router.addRoutes(firmware.adminEndpoints, atPath: "/v1/admin")
    let admin = AdminController(apiKeys: services.apiKeys, groups: services.groups, devices: services.lifecycle, metrics: metrics)
    router.addRoutes(admin.endpoints, atPath: "/v1/admin")
    router.addRoutes(admin.eventRoutes, atPath: "/v1/events")
    router.addRoutes(
        EventStreamController(
            apiKeys: services.apiKeys, store: services.store, heartbeat: configuration.eventStreamHeartbeat, open: .init()
        ).endpoints,
        atPath: "/v1/events")
    router.addRoutes(
        RevocationStreamController(
            store: services.store, limiter: publicLimiter, heartbeat: configuration.eventStreamHeartbeat, publicURL: services.publicURL,
            statusListSize: IssuanceService.statusListSize
        ).endpoints,
        atPath: "/v1/revocations")
    router.addRoutes(
        GatewayController(
            apiKeys: services.apiKeys, store: services.store, heartbeat: configuration.eventStreamHeartbeat, clock: services.clock,
            directory: services.directory, monitoring: services.monitoring, open: .init()
        ).endpoints,
        atPath: "/v1/gateway")
    let rabbitMQ = RabbitMQService(policy: services.policy, directory: services.directory, settings: configuration.rabbitMQ)
    router.addRoutes(
        RabbitMQController(rabbitMQ: rabbitMQ, apiKeys: services.apiKeys, logger: services.logger).endpoints, atPath: "/v1/brokers/rabbitmq")
    let webhooks = WebhookController(apiKeys: services.apiKeys, webhooks: services.webhooks)
    router.addRoutes(webhooks.adminEndpoints, atPath: "/v1/admin")
    router.addRoutes(webhooks.publicEndpoints, atPath: "/v1/webhooks")
    router.addRoutes(LogController(log: services.log, limiter: limiter).endpoints, atPath: "/v1/log")
    let policy = PolicyController(policy: services.policy, apiKeys: services.apiKeys, metrics: metrics)
    router.addRoutes(policy.authorizeEndpoints, atPath: "/v1/authorize")
    router.addRoutes(policy.adminEndpoints, atPath: "/v1/admin")
    if configuration.console {
        let console = ConsoleService(
            store: services.store, lifecycle: services.lifecycle, groups: services.groups, apiKeys: services.apiKeys, monitoring: services.monitoring,
            policy: services.policy, webhooks: services.webhooks, log: services.log, clock: services.clock,
            publicURL: services.publicURL)
        router.addRoutes(
            ConsoleController(
                console: console, renderer: try ConsoleRenderer.bundled.get(), store: services.store,
                secureCookies: configuration.tlsCertificateFile != nil || services.publicURL.hasPrefix("https://"),
                heartbeat: configuration.eventStreamHeartbeat, open: .init(), metrics: metrics, limiter: limiter,
                tls: configuration.tlsCertificateFile != nil, publicOrigin: ConsoleController.origin(of: services.publicURL)
            ).endpoints,
            atPath: "/console")
    }
    // Last, so that it wraps only the not-found answer: 405 with Allow for a known path.
    router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes))
    // OCSP by GET, past the router, through the middleware its route has there.
    let counting = MetricsMiddleware<VouchRequestContext>(metrics: metrics, route: "/v1/pki/ocsp/{request}")
    let problems = ProblemMiddleware<VouchRequestContext>()
    let limiting = RateLimitMiddleware(limiter: publicLimiter)
    var built = VouchRouter(router: router) { request, context in
        try await counting.handle(request, context: context) { request, context in
            try await problems.handle(request, context: context) { request, context in
                try await limiting.handle(request, context: context) { request, context in
                    try await publicController.ocspByGET(request, context: context)
                }
            }
        }
    }
    built.proxies = TrustedProxies(ranges: configuration.trustedProxies)
    return built
}

/// Runs the transparency log's sequencer until the server shuts down; then appends what was
/// committed meanwhile and closes the database.
struct DatabaseService: Service {
    let log: TransparencyLog
    let changes: ChangeFollower
    let store: Store

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await log.sequence()
                } catch {
                    log.logger.error("appending to the transparency log failed", metadata: ["error": "\(String(reflecting: error))"])
                }
                log.expireWaiters()
                do {
                    try await changes.follow()
                } catch {
                    log.logger.error("following other nodes' changes failed", metadata: ["error": "\(String(reflecting: error))"])
                }
                try? await Task.sleep(for: log.configuration.interval)
            }
        }
        do {
            try await log.sequence()
        } catch {
            log.logger.error("appending to the transparency log at shutdown failed", metadata: ["error": "\(String(reflecting: error))"])
        }
        log.expireWaiters(all: true)
        await store.database.close()
    }
}
