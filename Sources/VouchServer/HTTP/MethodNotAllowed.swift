import HTTPTypes
import Hummingbird

/// Answers 405 Method Not Allowed, with `Allow` (RFC 9110 §15.5.6), when the path is a route's but
/// the method is not one of its: the client learns it has the right resource and the wrong method,
/// where a 404 would send it looking for another path.
///
/// Registered on the router after every route, so it wraps only the router's not-found responder:
/// it runs for requests no route took. Which route a path belongs to is decided by a second router
/// holding the same paths, so the answer follows Hummingbird's own matching (constants before
/// captures before wildcards) rather than an imitation of it.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The method the path router's routes answer: not one a client's request reaches it with.
    private static var lookup: HTTPRequest.Method { HTTPRequest.Method("VOUCH-ALLOW")! }

    /// Every route path, answering `lookup` with the path's methods in `Allow`.
    private let paths: RouterResponder<Context>

    /// - Parameter routes: the router's routes (`router.routes`), once all are added.
    init(routes: [Router<Context>.RouteDescription]) {
        let router = Router(context: Context.self)
        for (_, routes) in Dictionary(grouping: routes, by: \.path.description) {
            var methods = Set(routes.map(\.method.rawValue))
            // HEAD is answered wherever GET is (RFC 9110 §9.3.2).
            if methods.contains(HTTPRequest.Method.get.rawValue) { methods.insert(HTTPRequest.Method.head.rawValue) }
            let allow = methods.sorted().joined(separator: ", ")
            router.on(routes[0].path, method: Self.lookup) { _, _ in
                Response(status: .noContent, headers: [.allow: allow])
            }
        }
        paths = router.buildResponder()
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let allow = await allowedMethods(request, context: context) else {
            return try await next(request, context)
        }
        var response = try Problem(
            .methodNotAllowed, "\(request.method) is not allowed on \(request.uri.path); its methods are \(allow) (see /openapi.yaml)"
        ).response(from: request, context: context)
        response.headers[.allow] = allow
        return response
    }

    /// The methods of the route whose path the request's is, or nil when no route has it.
    private func allowedMethods(_ request: Request, context: Context) async -> String? {
        var head = request.head
        head.method = Self.lookup
        let response = try? await paths.respond(to: Request(head: head, body: request.body), context: context)
        return response?.headers[.allow]
    }
}
