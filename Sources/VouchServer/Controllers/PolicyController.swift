import Foundation
import Hummingbird
import VouchAPI
import VouchCore
import VouchKit

/// Policies and decisions: `POST /v1/authorize`, the policy versions under `/v1/admin/policy`, and
/// a device's zone and roles (`PATCH /v1/admin/devices/{id}`). Bearer API key.
struct PolicyController<Policy: PolicyServing, Keys: APIKeyManaging> {
    let policy: Policy
    let apiKeys: Keys
    let metrics: ServerMetrics

    /// `POST /v1/authorize`: any key may ask; only an enforcement point's (gateway) denials count.
    var authorizeEndpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
            .add(middleware: APIKeyAuthenticator(apiKeys: apiKeys))
            .add(middleware: RequireScope(.gateway))
        routes.post(use: authorize)
        return routes
    }

    /// Under `/v1/admin`.
    var adminEndpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self).add(middleware: APIKeyAuthenticator(apiKeys: apiKeys))
        let reads = routes.group().add(middleware: RequireScope(.readOnly))
        let changes = routes.group().add(middleware: RequireScope(.operator))
        reads.get("policy", use: show)
        changes.put("policy", use: upload)
        reads.get("policy/versions", use: versions)
        changes.patch("devices/{id}", use: assign)
        return routes
    }

    @Sendable func authorize(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let key = try context.apiKey
        let body = try AuthorizeBody(json: Array(try await request.bodyBytes(limit: context.maxUploadSize).readableBytesView))
        let answer = try await policy.authorize(body, counting: key.scope == .gateway)
        metrics.decided(answer.decision)
        return Responses.json(bytes: answer.json.canonicalJSON)
    }

    @Sendable func show(_ request: Request, context: VouchRequestContext) async throws -> Answer<PolicyVersionView> {
        var version: Int?
        if let text = request.uri.queryParameters["version"] {
            guard let number = Int(String(text)), number >= 0 else { throw ServiceError.invalidRequest("version must be a whole number") }
            version = number
        }
        return Answer(try await policy.version(version))
    }

    @Sendable func upload(_ request: Request, context: VouchRequestContext) async throws -> Answer<PolicyUploadAnswer> {
        let buffer = try await request.bodyBytes(limit: context.maxUploadSize, tooLarge: "a policy is at most \(context.maxUploadSize / 1024) KiB")
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self), !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ServiceError.invalidRequest("send the policy document (YAML or JSON, UTF-8) as the body")
        }
        let (view, created) = try await policy.upload(text, actor: context.actor)
        return Answer(PolicyUploadAnswer(policy: view, created: created), status: created ? .created : .ok)
    }

    @Sendable func versions(_ request: Request, context: VouchRequestContext) async throws -> Answer<[PolicyVersionView]> {
        Answer(try await policy.versions())
    }

    @Sendable func assign(_ request: Request, context: VouchRequestContext) async throws -> Answer<DeviceView> {
        let body = try await request.decode(as: AssignmentRequest.self, context: context)
        return Answer(try await policy.assign(try context.parameters.require("id"), body, actor: context.actor))
    }
}
