import Foundation
import Hummingbird
import VouchCore
import VouchKit
import VouchStore

/// `/v1/admin/…` and `/v1/events`: API keys, enrollment groups, devices, the event feed. Bearer API key.
struct AdminController {
    let services: VouchServices
    let apiKeys: APIKeyMiddleware
    let metrics: ServerMetrics

    struct CreateAPIKey: Codable {
        var name: String
        var scope: APIScope?
    }

    struct CreatedAPIKey: Codable {
        var id: String
        var name: String
        var scope: String
        var createdAt: Int
        /// Shown once.
        var secret: String
    }

    struct APIKeyView: Codable {
        var id: String
        var name: String
        var scope: String
        var createdAt: Int
        var revokedAt: Int?
    }

    /// A group as created or updated: the rules, plus for claim-token groups a new token (shown once).
    struct GroupRequest: Codable {
        var name: String?
        var attestation: AttestationMode?
        /// A positive number, or nil with `unlimitedTokenUses` for no limit.
        var tokenUses: Int?
        var unlimitedTokenUses: Bool?
        var tokenExpiresAt: Int?
        var manufacturerRoots: [String]?
        var allowedKeyTypes: [SigningKey.KeyType]?
        var requiredAttributes: [String]?
        var defaultZone: String?
        var defaultRoles: [String]?
        var approval: ApprovalMode?
        var certificateValidity: Int?
        var credentialValidity: Int?
        var requireKnownFirmware: Bool?
        var devicesPerFactoryCertificate: Int?
        var manufacturerCRLs: [String]?
        var certificateProfile: CertificateProfile?
        var rotateToken: Bool?

        func rules(over base: EnrollmentRules) -> EnrollmentRules {
            var rules = base
            if let attestation { rules.attestation = attestation }
            if unlimitedTokenUses == true {
                rules.tokenUses = nil
            } else if let tokenUses {
                rules.tokenUses = tokenUses
            }
            if let tokenExpiresAt { rules.tokenExpiresAt = tokenExpiresAt }
            if let manufacturerRoots { rules.manufacturerRoots = manufacturerRoots }
            if let allowedKeyTypes { rules.allowedKeyTypes = allowedKeyTypes }
            if let requiredAttributes { rules.requiredAttributes = requiredAttributes }
            if let defaultZone { rules.defaultZone = defaultZone }
            if let defaultRoles { rules.defaultRoles = defaultRoles }
            if let approval { rules.approval = approval }
            if let certificateValidity { rules.certificateValidity = certificateValidity }
            if let credentialValidity { rules.credentialValidity = credentialValidity }
            if let requireKnownFirmware { rules.requireKnownFirmware = requireKnownFirmware }
            if let devicesPerFactoryCertificate { rules.devicesPerFactoryCertificate = devicesPerFactoryCertificate }
            if let manufacturerCRLs { rules.manufacturerCRLs = manufacturerCRLs }
            if let certificateProfile { rules.certificateProfile = certificateProfile }
            return rules
        }
    }

    struct GroupResponse: Codable {
        var group: GroupView
        var claimToken: String?
    }

    struct DevicePage: Codable {
        var devices: [DeviceView]
        /// Pass as `after` for the next page; absent on the last page.
        var next: String?
    }

    struct ActionRequest: Codable {
        var reason: String?
    }

    struct ActionResponse: Codable {
        var device: DeviceView
        var enrollment: EnrollmentBundle?
    }

    struct EventView: Codable {
        var seq: Int
        var at: Int
        var kind: String
        var subject: String
        var actor: String
        var data: JSONValue
    }

    struct EventPage: Codable {
        var events: [EventView]
        var last: Int
    }

    func addRoutes(to router: Router<VouchRequestContext>) {
        let admin = router.group("/v1/admin").add(middleware: apiKeys)

        admin.post("/api-keys") { request, context in
            _ = try context.require(.admin)
            let body = try await request.decodeJSON(CreateAPIKey.self, context: context)
            let (row, secret) = try await services.apiKeys.create(name: body.name, scope: body.scope ?? .readOnly, actor: context.actor)
            return try Responses.json(CreatedAPIKey(id: row.id, name: row.name, scope: row.scope.rawValue, createdAt: row.createdAt, secret: secret), status: .created)
        }
        admin.get("/api-keys") { _, context in
            _ = try context.require(.admin)
            return try Responses.json(try await services.apiKeys.list().map {
                APIKeyView(id: $0.id, name: $0.name, scope: $0.scope.rawValue, createdAt: $0.createdAt, revokedAt: $0.revokedAt)
            })
        }
        admin.delete("/api-keys/{id}") { _, context in
            _ = try context.require(.admin)
            try await services.apiKeys.revoke(id: try context.parameters.require("id"), actor: context.actor)
            return Response(status: .noContent)
        }

        admin.post("/groups") { request, context in
            _ = try context.require(.operator)
            let body = try await request.decodeJSON(GroupRequest.self, context: context)
            guard let name = body.name else { throw ServiceError.invalidRequest("name is required") }
            let (group, token) = try await services.groups.create(name: name, rules: body.rules(over: EnrollmentRules()), actor: context.actor)
            return try Responses.json(GroupResponse(group: group, claimToken: token), status: .created)
        }
        admin.get("/groups") { _, context in
            _ = try context.require(.readOnly)
            return try Responses.json(try await services.groups.list())
        }
        admin.get("/groups/{id}") { _, context in
            _ = try context.require(.readOnly)
            return try Responses.json(try await services.groups.group(try context.parameters.require("id")))
        }
        admin.put("/groups/{id}") { request, context in
            _ = try context.require(.operator)
            let id = try context.parameters.require("id")
            let body = try await request.decodeJSON(GroupRequest.self, context: context)
            let current = try await services.groups.group(id)
            if let name = body.name, name != current.name {
                throw ServiceError.unprocessable("a group's name cannot change; create a new group instead")
            }
            let (group, token) = try await services.groups.update(id, rules: body.rules(over: current.rules), rotateToken: body.rotateToken ?? false, actor: context.actor)
            return try Responses.json(GroupResponse(group: group, claimToken: token))
        }
        admin.post("/groups/{id}/disable") { _, context in
            _ = try context.require(.operator)
            return try Responses.json(try await services.groups.setDisabled(try context.parameters.require("id"), disabled: true, actor: context.actor))
        }
        admin.post("/groups/{id}/enable") { _, context in
            _ = try context.require(.operator)
            return try Responses.json(try await services.groups.setDisabled(try context.parameters.require("id"), disabled: false, actor: context.actor))
        }

        admin.get("/devices") { request, context in
            _ = try context.require(.readOnly)
            let query = request.uri.queryParameters
            let limitText = query["limit"].map(String.init) ?? "100"
            guard let limit = Int(limitText), (1...1000).contains(limit) else {
                throw ServiceError.invalidRequest("limit must be a whole number from 1 to 1000")
            }
            let devices = try await services.lifecycle.devices(
                state: query["state"].map(String.init), group: query["group"].map(String.init),
                zone: query["zone"].map(String.init), after: query["after"].map(String.init), limit: limit + 1
            )
            let page = Array(devices.prefix(limit))
            return try Responses.json(DevicePage(devices: page, next: devices.count > limit ? page.last?.id : nil))
        }
        admin.get("/devices/{id}") { _, context in
            _ = try context.require(.readOnly)
            return try Responses.json(try await services.lifecycle.detail(try context.parameters.require("id")))
        }
        admin.post("/devices/{id}/{action}") { request, context in
            _ = try context.require(.operator)
            let id = try context.parameters.require("id")
            let actionName = try context.parameters.require("action")
            guard let action = LifecycleAction(rawValue: actionName) else {
                throw ServiceError.notFound("no device action \(actionName.prefix(32)); actions: \(LifecycleAction.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var reason: RevocationReason?
            if request.hasBody {
                let body = try await request.decodeJSON(ActionRequest.self, context: context)
                if let name = body.reason {
                    guard let parsed = RevocationReason(name: name) else {
                        throw ServiceError.invalidRequest("reason must be one of \(RevocationReason.allCases.map(\.name).joined(separator: ", "))")
                    }
                    reason = parsed
                }
            }
            let (device, bundle) = try await services.lifecycle.apply(action, to: id, reason: reason, actor: context.actor)
            if action == .revoke || action == .decommission { metrics.revoked() }
            return try Responses.json(ActionResponse(device: device, enrollment: bundle))
        }

        router.group("/v1/events").add(middleware: apiKeys).get { request, context in
            _ = try context.require(.readOnly)
            let query = request.uri.queryParameters
            guard let after = Int(query["after"].map(String.init) ?? "0"), after >= 0 else {
                throw ServiceError.invalidRequest("after must be a sequence number (0 or more)")
            }
            guard let limit = Int(query["limit"].map(String.init) ?? "1000"), (1...10_000).contains(limit) else {
                throw ServiceError.invalidRequest("limit must be a whole number from 1 to 10000")
            }
            let (events, last) = try await services.store.read { (try await $0.events.after(after, limit: limit), try await $0.counters.current(.events)) }
            return try Responses.json(EventPage(events: try events.map {
                EventView(seq: $0.seq, at: $0.at, kind: $0.kind, subject: $0.subject, actor: $0.actor, data: try $0.data())
            }, last: last))
        }
    }
}
