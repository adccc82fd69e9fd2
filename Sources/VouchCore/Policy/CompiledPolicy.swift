import VouchKit

/// A policy version ready for decisions: zone rules built once, each role's statements filled in
/// per device on demand.
public struct CompiledPolicy: Sendable {
    /// The version (0: nothing uploaded yet).
    public let version: Int
    /// The document as validated.
    public let document: PolicyDocument
    /// Zones and flows, as the trust bundle publishes them.
    public let zoneRules: ZoneRules
    private let roles: [String: PolicyDocument.Role]

    /// Compiles `document` as `version`.
    public init(version: Int, document: PolicyDocument) {
        self.version = version
        self.document = document
        var roles: [String: PolicyDocument.Role] = [:]
        for role in document.roles { roles[role.name] = role }
        self.roles = roles
        let flows = document.flows.map { flow in
            // Flow statements have no variables (the document refuses them), so any facts do.
            let facts = DeviceFacts(id: "", did: "", zone: "", group: "", attributes: [:], roles: [], quarantined: false)
            return ZoneRules.Flow(from: flow.from, to: flow.to, statements: flow.statements.compactMap { $0.expand(facts).0 })
        }
        self.zoneRules = ZoneRules(version: version, zones: document.zoneNames, flows: flows)
    }

    /// Thresholds, weights and responses for monitoring.
    public var monitoring: MonitoringRules { document.monitoring }

    /// Whether messages published to `topic` must be telemetry envelopes signed by the publisher.
    public func requiresSignature(topic: String) -> Bool {
        document.signedTopics.contains { $0.matches(topic) }
    }

    /// Whether the policy defines `role`.
    public func defines(role: String) -> Bool { roles[role] != nil }

    /// The statements `role` gives `device`, variables filled in, with notes on what was left out.
    public func statements(role: String, for device: DeviceFacts) -> (statements: [PolicyStatement], notes: [String]) {
        guard let definition = roles[role] else {
            return ([], ["role \(role) is not defined by policy version \(version)"])
        }
        return expand(definition.statements, device)
    }

    /// The subject a decision about `device` uses: its roles' statements, or only the quarantine
    /// allow-list while it is quarantined.
    public func subject(for device: DeviceFacts) -> AuthorizationSubject {
        if device.quarantined {
            let (statements, notes) = expand(document.quarantineAllowList, device)
            return AuthorizationSubject(device: device.id, zone: ZoneRules.quarantineZone, statements: statements, notes: notes)
        }
        var statements: [PolicyStatement] = []
        var notes: [String] = []
        if device.roles.isEmpty { notes.append("device \(device.id) has no roles") }
        for role in device.roles {
            let (granted, roleNotes) = self.statements(role: role, for: device)
            statements += granted
            notes += roleNotes
        }
        return AuthorizationSubject(device: device.id, zone: device.zone, statements: statements, notes: notes)
    }

    private func expand(_ templates: [StatementTemplate], _ device: DeviceFacts) -> ([PolicyStatement], [String]) {
        var statements: [PolicyStatement] = []
        var notes: [String] = []
        for template in templates {
            let (statement, templateNotes) = template.expand(device)
            if let statement { statements.append(statement) }
            notes += templateNotes
        }
        return (statements, notes)
    }
}
