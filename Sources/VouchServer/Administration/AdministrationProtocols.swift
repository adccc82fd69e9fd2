import VouchAPI
import VouchCore
import VouchKit
import VouchStore

/// What the admin API asks of API keys.
protocol APIKeyManaging: Sendable {
    func create(name: String, scope: APIScope, actor: String) async throws -> (APIKeyRecord, secret: String)
    func authenticate(_ secret: String) async throws -> APIKeyRecord?
    func list() async throws -> [APIKeyRecord]
    func revoke(id: String, actor: String) async throws
}

/// What the admin API asks of enrollment groups.
protocol GroupManaging: Sendable {
    func create(name: String, rules: EnrollmentRules, actor: String) async throws -> (GroupView, token: String?)
    func list() async throws -> [GroupView]
    func group(_ idOrName: String) async throws -> GroupView
    func update(_ idOrName: String, rules: EnrollmentRules, rotateToken: Bool, actor: String) async throws -> (GroupView, token: String?)
    func setDisabled(_ idOrName: String, disabled: Bool, actor: String) async throws -> GroupView
}

/// What the admin API asks of the devices and their lifecycle.
protocol LifecycleManaging: Sendable {
    func devices(state: String?, group: String?, zone: String?, after: String?, limit: Int) async throws -> [DeviceView]
    func detail(_ id: String) async throws -> DeviceDetail
    func apply(_ action: LifecycleAction, to id: String, reason: RevocationReason?, actor: String, cause: [String: JSONValue]?) async throws -> (DeviceView, EnrollmentBundle?)
    /// Devices by state and the last event's number (`/metrics`).
    func fleetCounts() async throws -> (devicesByState: [DeviceState: Int], lastEvent: Int)
    /// The last event's number: one row read, which shows the store answers (`/readyz`) at the
    /// same cost in a fleet of any size.
    func lastEvent() async throws -> Int
    /// The events after `after`, oldest first, and the last event's number.
    func events(after: Int, limit: Int) async throws -> (events: [EventRecord], last: Int)
}

extension APIKeyService: APIKeyManaging {}
extension GroupService: GroupManaging {}
extension LifecycleService: LifecycleManaging {}
