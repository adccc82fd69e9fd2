import Foundation
import HTTPTypes
import Hummingbird
import VouchKit

/// Lets a request in on a live console session: the caller becomes the session's API key, with the
/// scope the key has now. Without one, a page asks to sign in; anything else is refused.
struct ConsoleAuthenticator: RouterMiddleware {
    typealias Context = VouchRequestContext
    let console: ConsoleService

    func handle(_ request: Request, context: VouchRequestContext, next: (Request, VouchRequestContext) async throws -> Response) async throws -> Response {
        // A live update's fetch is the page refreshing itself, not the operator: it does not keep the session from going idle.
        let touch = !ConsoleController.isFragment(request)
        guard let cookie = request.cookies[ConsoleSessions.cookie]?.value, let (session, key) = try await console.session(cookie: cookie, touch: touch) else {
            if request.method == .get, !ConsoleController.isFragment(request), request.uri.path != "/console/live" {
                let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                let next = ConsoleController.safeNext(target).map { "?next=" + ConsoleController.query($0) } ?? ""
                return ConsoleController.redirect("/console/sign-in" + next)
            }
            throw ServiceError.unauthenticated("the console session has ended; sign in again at /console/sign-in")
        }
        var context = context
        context.identity = .apiKey(key)
        context.consoleSession = session
        return try await next(request, context)
    }
}

/// Answers a console page's refusal as a page that says what to do, not as JSON.
struct ConsolePageErrors: RouterMiddleware {
    typealias Context = VouchRequestContext
    let renderer: ConsoleRenderer

    func handle(_ request: Request, context: VouchRequestContext, next: (Request, VouchRequestContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServiceError {
            if error.code == .unauthenticated, request.method == .get, !ConsoleController.isFragment(request) {
                return ConsoleController.redirect("/console/sign-in")
            }
            let status = Problem.status(of: error.code)
            var values: [String: Any] = ["status": status.code, "reason": status.reasonPhrase, "detail": error.detail]
            if let legal = error.members["legalActions"]?.stringValue { values["legal"] = legal }
            var response = renderer.render(
                "error", values, frame: ["title": "\(status.code) \(status.reasonPhrase)", "live": ""], fragment: ConsoleController.isFragment(request),
                status: status)
            if let retry = error.retryAfter { response.headers[.retryAfter] = String(retry) }
            return response
        }
    }
}
