import Foundation
import Hummingbird
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

/// `/v1/admin/webhooks/…`: webhook endpoints and their deliveries (reading needs a read-only key,
/// changing an admin key: an endpoint receives every event it asks for). `GET /v1/webhooks/public-key`
/// (public): the key `v1a` signatures verify under.
struct WebhookController<Keys: APIKeyManaging>: Sendable {
    let apiKeys: Keys
    let webhooks: WebhookService

    /// The routes under `/v1/admin`.
    var adminEndpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
            .add(middleware: APIKeyAuthenticator(apiKeys: apiKeys))
        let reads = routes.group().add(middleware: RequireScope(.readOnly))
        let changes = routes.group().add(middleware: RequireScope(.admin))
        changes.post("webhooks", use: create)
        reads.get("webhooks", use: list)
        reads.get("webhooks/{id}", use: show)
        changes.patch("webhooks/{id}", use: update)
        changes.delete("webhooks/{id}", use: remove)
        changes.post("webhooks/{id}/test", use: test)
        reads.get("webhooks/{id}/deliveries", use: deliveries)
        changes.post("webhooks/{id}/deliveries/{seq}/redeliver", use: redeliver)
        changes.post("webhooks/{id}/replay", use: replay)
        return routes
    }

    /// The routes under `/v1/webhooks`.
    var publicEndpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
        routes.get("public-key", use: publicKey)
        return routes
    }

    @Sendable func create(_ request: Request, context: VouchRequestContext) async throws -> Answer<WebhookWithSecret> {
        let body = try await request.decode(as: WebhookRequest.self, context: context)
        guard body.rotateSecret == nil, body.graceSeconds == nil else {
            throw ServiceError.invalidRequest("rotateSecret and graceSeconds are for changing an endpoint (PATCH); a new one gets a new secret")
        }
        let (record, secret) = try await webhooks.create(body, actor: context.actor)
        return Answer(WebhookWithSecret(endpoint: webhooks.view(record), secret: secret), status: .created)
    }

    @Sendable func list(_ request: Request, context: VouchRequestContext) async throws -> Answer<[WebhookView]> {
        Answer(try await webhooks.list().map { webhooks.view($0) })
    }

    @Sendable func show(_ request: Request, context: VouchRequestContext) async throws -> Answer<WebhookView> {
        let record = try await webhooks.endpoint(try context.parameters.require("id"))
        return Answer(webhooks.view(record, counts: try await webhooks.counts(record.id)))
    }

    @Sendable func update(_ request: Request, context: VouchRequestContext) async throws -> Answer<WebhookWithSecret> {
        let body = try await request.decode(as: WebhookRequest.self, context: context)
        let (record, secret) = try await webhooks.update(try context.parameters.require("id"), body, actor: context.actor)
        return Answer(WebhookWithSecret(endpoint: webhooks.view(record), secret: secret))
    }

    @Sendable func remove(_ request: Request, context: VouchRequestContext) async throws -> Response {
        try await webhooks.remove(try context.parameters.require("id"), actor: context.actor)
        return Response(status: .noContent)
    }

    @Sendable func test(_ request: Request, context: VouchRequestContext) async throws -> Answer<WebhookTestResult> {
        Answer(try await webhooks.test(try context.parameters.require("id")))
    }

    /// A sequence number from outside: whole, 1 or more, at most 15 digits.
    static func sequenceNumber(_ text: Substring?, named name: String, minimum: Int = 1) throws -> Int? {
        guard let text else { return nil }
        guard !text.isEmpty, text.utf8.count <= 15, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(text), value >= minimum else {
            throw ServiceError.invalidRequest("\(name) must be an event sequence number (\(minimum) or more)")
        }
        return value
    }

    @Sendable func deliveries(_ request: Request, context: VouchRequestContext) async throws -> Answer<WebhookDeliveryPage> {
        let query = request.uri.queryParameters
        let before = try Self.sequenceNumber(query["before"], named: "before")
        let limitText = query["limit"].map(String.init) ?? "50"
        guard limitText.utf8.count <= 4, let limit = Int(limitText), (1...500).contains(limit) else {
            throw ServiceError.invalidRequest("limit must be a whole number from 1 to 500")
        }
        let found = try await webhooks.deliveries(try context.parameters.require("id"), before: before, limit: limit)
        return Answer(WebhookDeliveryPage(deliveries: found, next: found.count == limit ? found.last?.seq : nil))
    }

    @Sendable func redeliver(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let seq = try Self.sequenceNumber(Substring(try context.parameters.require("seq")), named: "the event")!
        try await webhooks.redeliver(try context.parameters.require("id"), seq: seq, actor: context.actor)
        return Response(status: .accepted)
    }

    @Sendable func replay(_ request: Request, context: VouchRequestContext) async throws -> Answer<WebhookReplayResult> {
        let body = try await request.decode(as: WebhookReplayRequest.self, context: context)
        guard (1...999_999_999_999_999).contains(body.from) else { throw ServiceError.invalidRequest("from must be an event sequence number (1 or more)") }
        let events = try await webhooks.replay(try context.parameters.require("id"), from: body.from, actor: context.actor)
        return Answer(WebhookReplayResult(from: body.from, events: events), status: .accepted)
    }

    @Sendable func publicKey(_ request: Request, context: VouchRequestContext) async throws -> Answer<WebhookPublicKey> {
        Answer(WebhookPublicKey(publicKey: webhooks.signingKey.publicKey))
    }
}
