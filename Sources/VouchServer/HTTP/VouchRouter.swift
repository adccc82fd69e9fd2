import Hummingbird

/// The router, with OCSP by GET answered before it. An OCSP GET path carries a request of some
/// hundred characters, which the router's trie splits and compares character by character: a
/// tenth of the server's time at full load, where a relying party's OCSP check should cost what a
/// `/healthz` does. Those requests go straight to their handler, through the same middleware as
/// every route (metrics, problem answers, the public rate limit); everything else, HEAD included,
/// goes to the router.
struct VouchRouter: HTTPResponderBuilder {
    let router: Router<VouchRequestContext>
    /// The OCSP GET handler wrapped in the middleware its route has in `router`.
    let ocspByGET: @Sendable (Request, VouchRequestContext) async throws -> Response
    /// Whose `X-Forwarded-For` is believed.
    var proxies = TrustedProxies(ranges: [])

    var routes: [Router<VouchRequestContext>.RouteDescription] { router.routes }

    func buildResponder() -> VouchResponder<Router<VouchRequestContext>.Responder> {
        VouchResponder(router: router.buildResponder(), ocspByGET: ocspByGET, proxies: proxies)
    }
}

struct VouchResponder<RouterResponder: HTTPResponder>: HTTPResponder where RouterResponder.Context == VouchRequestContext {
    let router: RouterResponder
    let ocspByGET: @Sendable (Request, VouchRequestContext) async throws -> Response
    let proxies: TrustedProxies

    func respond(to request: Request, context: VouchRequestContext) async throws -> Response {
        var context = context
        if !proxies.ranges.isEmpty {
            context.forwardedClient = proxies.client(peer: context.peerAddress, fields: request.headers)
        }
        if request.method == .get, let target = request.head.path, target.utf8.count > ocspPrefix.count, target.utf8.starts(with: ocspPrefix) {
            return try await ocspByGET(request, context)
        }
        return try await router.respond(to: request, context: context)
    }
}

private let ocspPrefix = Array(OCSPAnswer.getPrefix.utf8)
