import Foundation
import VouchCore
import VouchKit

// What an operator asks of the server: API keys, groups, devices and their lifecycle, firmware,
// policy and events. The client's credential is an API key of the scope each route needs.
extension VouchClient {
    // MARK: API keys

    /// `POST /v1/admin/api-keys`: the secret is in the answer, once.
    public func createAPIKey(_ request: CreateAPIKey) async throws -> CreatedAPIKey {
        try await call("POST", "/v1/admin/api-keys", body: .json(request))
    }

    /// `GET /v1/admin/api-keys`.
    public func apiKeys() async throws -> [APIKeyView] {
        try await call("GET", "/v1/admin/api-keys")
    }

    /// `DELETE /v1/admin/api-keys/{id}`.
    public func revokeAPIKey(_ id: String) async throws {
        try await send("DELETE", "/v1/admin/api-keys/\(Self.segment(id))")
    }

    // MARK: Groups

    /// `POST /v1/admin/groups`: claim-token groups come with their token, once.
    public func createGroup(_ request: GroupRequest) async throws -> GroupResponse {
        try await call("POST", "/v1/admin/groups", body: .json(request))
    }

    /// `GET /v1/admin/groups`.
    public func groups() async throws -> [GroupView] {
        try await call("GET", "/v1/admin/groups")
    }

    /// `GET /v1/admin/groups/{id}`.
    public func group(_ id: String) async throws -> GroupView {
        try await call("GET", "/v1/admin/groups/\(Self.segment(id))")
    }

    /// `PUT /v1/admin/groups/{id}`.
    public func updateGroup(_ id: String, _ request: GroupRequest) async throws -> GroupResponse {
        try await call("PUT", "/v1/admin/groups/\(Self.segment(id))", body: .json(request))
    }

    /// `POST /v1/admin/groups/{id}/disable` or `/enable`.
    public func setGroup(_ id: String, enabled: Bool) async throws -> GroupView {
        try await call("POST", "/v1/admin/groups/\(Self.segment(id))/\(enabled ? "enable" : "disable")")
    }

    // MARK: Devices

    /// One page of `GET /v1/admin/devices`.
    public func devices(
        state: String? = nil, group: String? = nil, zone: String? = nil, after: String? = nil, limit: Int? = nil
    ) async throws -> DevicePage {
        let query = Self.query([("state", state), ("group", group), ("zone", zone), ("after", after), ("limit", limit.map(String.init))])
        return try await call("GET", "/v1/admin/devices" + query)
    }

    /// Every device (in `state`), page after page.
    public func allDevices(state: String? = nil) async throws -> [DeviceView] {
        var devices: [DeviceView] = []
        var after: String?
        repeat {
            let page = try await self.devices(state: state, after: after, limit: 1000)
            devices += page.devices
            after = page.next
        } while after != nil
        return devices
    }

    /// `GET /v1/admin/devices/{id}`.
    public func device(_ id: String) async throws -> DeviceDetail {
        try await call("GET", "/v1/admin/devices/\(Self.segment(id))")
    }

    /// `PATCH /v1/admin/devices/{id}`: zone and roles.
    public func assign(_ id: String, _ request: AssignmentRequest) async throws -> DeviceView {
        try await call("PATCH", "/v1/admin/devices/\(Self.segment(id))", body: .json(request))
    }

    /// `POST /v1/admin/devices/{id}/{action}`.
    public func act(_ action: LifecycleAction, on id: String, reason: String? = nil) async throws -> ActionResponse {
        try await call("POST", "/v1/admin/devices/\(Self.segment(id))/\(action.rawValue)", body: .json(ActionRequest(reason: reason)))
    }

    /// `GET /v1/admin/devices/{id}/telemetry`.
    public func recentTelemetry(of id: String) async throws -> TelemetryPage {
        try await call("GET", "/v1/admin/devices/\(Self.segment(id))/telemetry")
    }

    /// `GET /v1/devices/{id}/trust`: the whole trust report.
    public func trust(of id: String) async throws -> TrustReport {
        try await call("GET", "/v1/devices/\(Self.segment(id))/trust")
    }

    // MARK: Firmware

    /// `POST /v1/admin/firmware`.
    public func registerFirmware(_ registration: FirmwareRegistration) async throws -> FirmwareView {
        try await call("POST", "/v1/admin/firmware", body: .json(registration))
    }

    /// `GET /v1/admin/firmware`.
    public func firmware() async throws -> [FirmwareView] {
        try await call("GET", "/v1/admin/firmware")
    }

    /// `POST /v1/admin/firmware/{sha256}/revoke`.
    public func revokeFirmware(_ sha256: String) async throws -> RevokedFirmware {
        try await call("POST", "/v1/admin/firmware/\(Self.segment(sha256))/revoke")
    }

    // MARK: Policy

    /// `GET /v1/admin/policy`: the policy in force, or `version`.
    public func policy(version: Int? = nil) async throws -> PolicyVersionView {
        try await call("GET", "/v1/admin/policy" + Self.query([("version", version.map(String.init))]))
    }

    /// `PUT /v1/admin/policy`: the document's text (YAML or JSON).
    public func uploadPolicy(_ source: String) async throws -> PolicyUploadAnswer {
        try await call("PUT", "/v1/admin/policy", body: .text(source))
    }

    /// `GET /v1/admin/policy/versions`.
    public func policyVersions() async throws -> [PolicyVersionView] {
        try await call("GET", "/v1/admin/policy/versions")
    }

    /// `POST /v1/authorize`.
    public func authorize(_ question: AuthorizeBody) async throws -> AuthorizeAnswer {
        try await call("POST", "/v1/authorize", body: .json(question))
    }

    // MARK: Events

    /// `GET /v1/events`: events after sequence number `after`.
    public func events(after: Int? = nil, limit: Int? = nil) async throws -> EventPage {
        try await call("GET", "/v1/events" + Self.query([("after", after.map(String.init)), ("limit", limit.map(String.init))]))
    }
}
