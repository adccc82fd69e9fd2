import VouchAPI

/// What the policy API asks of policy: decisions, versions, and where devices stand in it.
protocol PolicyServing: Sendable {
    func authorize(_ body: AuthorizeBody, counting: Bool) async throws -> AuthorizeAnswer
    func version(_ version: Int?) async throws -> PolicyVersionView
    func upload(_ source: String, actor: String) async throws -> (PolicyVersionView, created: Bool)
    func versions() async throws -> [PolicyVersionView]
    func assign(_ id: String, _ request: AssignmentRequest, actor: String) async throws -> DeviceView
}

extension PolicyService: PolicyServing {}
