import Foundation
import Hummingbird
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

/// `/v1/admin/…` and `/v1/events`: API keys, enrollment groups, devices, the event feed. Bearer API
/// key; each route group requires its scope.
struct AdminController<Keys: APIKeyManaging, Groups: GroupManaging, Devices: LifecycleManaging> {
    let apiKeys: Keys
    let groups: Groups
    let devices: Devices
    let metrics: ServerMetrics

    /// The routes under `/v1/admin`.
    var endpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
            .add(middleware: APIKeyAuthenticator(apiKeys: apiKeys))
        let admin = routes.group().add(middleware: RequireScope(.admin))
        admin.post("api-keys", use: createAPIKey)
        admin.get("api-keys", use: listAPIKeys)
        admin.delete("api-keys/{id}", use: revokeAPIKey)
        let reads = routes.group().add(middleware: RequireScope(.readOnly))
        let changes = routes.group().add(middleware: RequireScope(.operator))
        changes.post("groups", use: createGroup)
        reads.get("groups", use: listGroups)
        reads.get("groups/{id}", use: showGroup)
        changes.put("groups/{id}", use: updateGroup)
        changes.post("groups/{id}/disable", use: disableGroup)
        changes.post("groups/{id}/enable", use: enableGroup)
        reads.get("devices", use: listDevices)
        reads.get("devices/{id}", use: showDevice)
        changes.post("devices/{id}/{action}", use: applyAction)
        return routes
    }

    /// `GET /v1/events`.
    var eventRoutes: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
            .add(middleware: APIKeyAuthenticator(apiKeys: apiKeys))
            .add(middleware: RequireScope(.readOnly))
        routes.get(use: listEvents)
        return routes
    }

    // MARK: API keys

    @Sendable func createAPIKey(_ request: Request, context: VouchRequestContext) async throws -> Answer<CreatedAPIKey> {
        let body = try await request.decode(as: CreateAPIKey.self, context: context)
        let (row, secret) = try await apiKeys.create(name: body.name, scope: body.scope ?? .readOnly, actor: context.actor)
        return Answer(CreatedAPIKey(id: row.id, name: row.name, scope: row.scope.rawValue, createdAt: row.createdAt, secret: secret), status: .created)
    }

    @Sendable func listAPIKeys(_ request: Request, context: VouchRequestContext) async throws -> Answer<[APIKeyView]> {
        Answer(try await apiKeys.list().map {
            APIKeyView(id: $0.id, name: $0.name, scope: $0.scope.rawValue, createdAt: $0.createdAt, revokedAt: $0.revokedAt)
        })
    }

    @Sendable func revokeAPIKey(_ request: Request, context: VouchRequestContext) async throws -> Response {
        try await apiKeys.revoke(id: try context.parameters.require("id"), actor: context.actor)
        return Response(status: .noContent)
    }

    // MARK: Groups

    @Sendable func createGroup(_ request: Request, context: VouchRequestContext) async throws -> Answer<GroupResponse> {
        let body = try await request.decode(as: GroupRequest.self, context: context)
        guard let name = body.name else { throw ServiceError.invalidRequest("name is required") }
        let (group, token) = try await groups.create(name: name, rules: body.rules(over: EnrollmentRules()), actor: context.actor)
        return Answer(GroupResponse(group: group, claimToken: token), status: .created)
    }

    @Sendable func listGroups(_ request: Request, context: VouchRequestContext) async throws -> Answer<[GroupView]> {
        Answer(try await groups.list())
    }

    @Sendable func showGroup(_ request: Request, context: VouchRequestContext) async throws -> Answer<GroupView> {
        Answer(try await groups.group(try context.parameters.require("id")))
    }

    @Sendable func updateGroup(_ request: Request, context: VouchRequestContext) async throws -> Answer<GroupResponse> {
        let id = try context.parameters.require("id")
        let body = try await request.decode(as: GroupRequest.self, context: context)
        let current = try await groups.group(id)
        if let name = body.name, name != current.name {
            throw ServiceError.unprocessable("a group's name cannot change; create a new group instead")
        }
        let (group, token) = try await groups.update(id, rules: body.rules(over: current.rules), rotateToken: body.rotateToken ?? false, actor: context.actor)
        return Answer(GroupResponse(group: group, claimToken: token))
    }

    @Sendable func disableGroup(_ request: Request, context: VouchRequestContext) async throws -> Answer<GroupView> {
        Answer(try await groups.setDisabled(try context.parameters.require("id"), disabled: true, actor: context.actor))
    }

    @Sendable func enableGroup(_ request: Request, context: VouchRequestContext) async throws -> Answer<GroupView> {
        Answer(try await groups.setDisabled(try context.parameters.require("id"), disabled: false, actor: context.actor))
    }

    // MARK: Devices

    @Sendable func listDevices(_ request: Request, context: VouchRequestContext) async throws -> Answer<DevicePage> {
        let query = request.uri.queryParameters
        let limitText = query["limit"].map(String.init) ?? "100"
        guard let limit = Int(limitText), (1...1000).contains(limit) else {
            throw ServiceError.invalidRequest("limit must be a whole number from 1 to 1000")
        }
        let found = try await devices.devices(
            state: query["state"].map(String.init), group: query["group"].map(String.init),
            zone: query["zone"].map(String.init), after: query["after"].map(String.init), limit: limit + 1
        )
        let page = Array(found.prefix(limit))
        return Answer(DevicePage(devices: page, next: found.count > limit ? page.last?.id : nil))
    }

    @Sendable func showDevice(_ request: Request, context: VouchRequestContext) async throws -> Answer<DeviceDetail> {
        Answer(try await devices.detail(try context.parameters.require("id")))
    }

    @Sendable func applyAction(_ request: Request, context: VouchRequestContext) async throws -> Answer<ActionResponse> {
        let id = try context.parameters.require("id")
        let actionName = try context.parameters.require("action")
        guard let action = LifecycleAction(rawValue: actionName) else {
            throw ServiceError.notFound("no device action \(actionName.prefix(32)); actions: \(LifecycleAction.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var reason: RevocationReason?
        if request.hasBody {
            let body = try await request.decode(as: ActionRequest.self, context: context)
            if let name = body.reason {
                guard let parsed = RevocationReason(name: name) else {
                    throw ServiceError.invalidRequest("reason must be one of \(RevocationReason.allCases.map(\.name).joined(separator: ", "))")
                }
                reason = parsed
            }
        }
        let (device, bundle) = try await devices.apply(action, to: id, reason: reason, actor: context.actor, cause: nil)
        if action == .revoke || action == .decommission { metrics.revoked() }
        return Answer(ActionResponse(device: device, enrollment: bundle))
    }

    // MARK: Events

    @Sendable func listEvents(_ request: Request, context: VouchRequestContext) async throws -> Answer<EventPage> {
        let query = request.uri.queryParameters
        guard let after = Int(query["after"].map(String.init) ?? "0"), after >= 0 else {
            throw ServiceError.invalidRequest("after must be a sequence number (0 or more)")
        }
        guard let limit = Int(query["limit"].map(String.init) ?? "1000"), (1...10_000).contains(limit) else {
            throw ServiceError.invalidRequest("limit must be a whole number from 1 to 10000")
        }
        let (events, last) = try await devices.events(after: after, limit: limit)
        return Answer(EventPage(events: try events.map {
            EventView(seq: $0.seq, at: $0.at, kind: $0.kind, subject: $0.subject, actor: $0.actor, data: try $0.data())
        }, last: last))
    }
}
