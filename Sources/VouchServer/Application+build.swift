import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceLifecycle
import VouchKit
import VouchStore
import X509

/// The running server: the application plus what callers may want to know about it.
public struct VouchServerInstance<App: ApplicationProtocol> {
    public let application: App
    /// The admin API key created by this start (first start only).
    public let newAdminKey: String?
    public let publicURL: String
    public let did: String
}

/// Builds the server on the data directory: bootstraps or loads the authority, opens the database.
public func buildApplication(
    configuration: ServerConfiguration, logger: Logger = Logger(label: "vouch")
) async throws -> VouchServerInstance<some ApplicationProtocol> {
    let loaded = try await AuthorityLoader.load(configuration: configuration, logger: logger)
    let authority = loaded.authority
    let router = buildRouter(authority: authority, configuration: configuration)
    let app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "vouch"),
        services: [DatabaseService(authority: authority)],
        logger: logger
    )
    return VouchServerInstance(application: app, newAdminKey: loaded.newAdminKey, publicURL: authority.publicURL, did: authority.did.description)
}

/// The routes: public PKI and status, the device API, the admin API.
func buildRouter(authority: Authority, configuration: ServerConfiguration) -> Router<VouchRequestContext> {
    let metrics = ServerMetrics()
    let router = Router(context: VouchRequestContext.self)
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    router.add(middleware: ProblemMiddleware())
    PublicController(authority: authority, metrics: metrics).addRoutes(to: router)
    EnrollmentController(authority: authority, limiter: RateLimiter(perMinute: configuration.rateLimitPerMinute), metrics: metrics).addRoutes(to: router)
    AdminController(authority: authority, metrics: metrics).addRoutes(to: router)
    return router
}

/// Closes the database when the server shuts down.
struct DatabaseService: Service {
    let authority: Authority

    func run() async throws {
        try? await gracefulShutdown()
        await authority.store.database.close()
    }
}
