import Foundation
import Hummingbird
import Logging
import VouchAPI
import VouchCore
import VouchKit

/// `/v1/brokers/rabbitmq/{user,vhost,resource,topic}`: RabbitMQ's HTTP auth backend, by GET (query)
/// or POST (form), answered `allow` or `deny` as text (see `RabbitMQService`). Taken from the
/// addresses `vouch serve --rabbitmq-source` names without a key, from anywhere else with a
/// gateway key only: these answers count against devices.
struct RabbitMQController<Keys: APIKeyManaging>: Sendable {
    let rabbitMQ: RabbitMQService
    let apiKeys: Keys
    let logger: Logger

    var endpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
            .add(middleware: APIKeyAuthenticator(apiKeys: apiKeys))
        for question in RabbitMQService.Question.allCases {
            routes.get(RouterPath(question.rawValue)) { request, context in try await answer(question, request, context) }
            routes.post(RouterPath(question.rawValue)) { request, context in try await answer(question, request, context) }
        }
        return routes
    }

    /// The most a question's form may hold.
    static var formLimit: Int { 16 * 1024 }

    func answer(_ question: RabbitMQService.Question, _ request: Request, _ context: VouchRequestContext) async throws -> Response {
        let allowedSource = context.sourceAddress.map { address in rabbitMQ.settings.sources.contains { $0.contains(address) } } ?? false
        if !allowedSource {
            guard case .apiKey(let key) = context.identity else {
                throw ServiceError.unauthenticated(
                    "RabbitMQ's questions come from an address vouch serve --rabbitmq-source names, or carry a gateway-scoped API key as Authorization: Bearer vk_…")
            }
            guard key.scope == .gateway else { throw ServiceError.forbidden("RabbitMQ's questions take a gateway-scoped API key") }
        }
        var fields: RabbitMQService.Fields = [:]
        for (name, value) in request.uri.queryParameters { fields[String(name)] = String(value) }
        if request.method == .post {
            let body = try await request.bodyBytes(limit: Self.formLimit, tooLarge: "a question is at most \(Self.formLimit / 1024) KiB")
            guard let text = String(validating: body.readableBytesView, as: UTF8.self) else {
                throw ServiceError.invalidRequest("the form is not UTF-8")
            }
            for pair in text.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = Self.formDecode(parts[0]), let value = Self.formDecode(parts.count > 1 ? parts[1] : "") else {
                    throw ServiceError.invalidRequest("the form is not application/x-www-form-urlencoded")
                }
                fields[name] = value
            }
        }
        let (allowed, why) = try await rabbitMQ.answer(question, fields)
        if !allowed {
            logger.notice("RabbitMQ: denied", metadata: ["rabbitmq.question": "\(question.rawValue)", "device.id": "\(fields["username"]?.prefix(64) ?? "")", "reason": "\(why)"])
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: allowed ? "allow" : "deny")))
    }

    /// A form field: `+` is a space, `%XX` a byte.
    static func formDecode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
