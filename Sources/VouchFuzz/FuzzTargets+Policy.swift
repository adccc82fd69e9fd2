import Foundation
import VouchCore
import VouchKit

/// Policy documents, their test cases, and monitoring's response conditions.
extension FuzzTargets {
    /// A policy document (YAML or JSON), compiled and asked a few questions for a device of each
    /// role, in its zone and quarantined. The zone rules it publishes in the trust bundle must read
    /// back as the same rules, or an offline verifier would decide otherwise than the server.
    static func policyDocument(_ data: Data) {
        guard let document = try? PolicyDocument(parsing: String(decoding: data, as: UTF8.self)) else { return }
        let policy = CompiledPolicy(version: 1, document: document)
        decideSamples(under: policy, zone: document.zones.first?.name ?? ZoneRules.defaultZone, roles: document.roles.map(\.name))
        let published = policy.zoneRules.json
        guard let read = try? ZoneRules(json: published) else {
            fatalError("the zone rules of a valid policy do not read back: \(String(decoding: published.canonicalJSON, as: UTF8.self).prefix(400))")
        }
        guard read == policy.zoneRules else {
            fatalError("the zone rules of a valid policy read back differently: \(String(decoding: published.canonicalJSON, as: UTF8.self).prefix(400))")
        }
    }

    /// A `vouch policy test` cases file (YAML or JSON), run against the README's policy.
    static func policyTestSuite(_ data: Data) {
        guard let suite = try? PolicyTestSuite(parsing: String(decoding: data, as: UTF8.self)) else { return }
        _ = suite.run(examplePolicy)
    }

    /// A response condition, alone and as the `when … then …` of a response rule, evaluated for
    /// a few scores and signals.
    static func responseCondition(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        _ = try? MonitoringRules.Response(name: "fuzz", parsing: text)
        guard let condition = try? ResponseCondition(parsing: text) else { return }
        _ = condition.description
        _ = condition.signalPatterns
        _ = condition.zoneNames
        let profile = DeviceProfile(group: "line", zone: "line-3", model: "t1000")
        for score in [0, 39.5, 60, 100] {
            _ = condition.holds(score: score, signals: [.firmwareUnknown, SignalKind(rawValue: "rule.chatty")], profile: profile)
            _ = condition.holds(score: score, signals: [], profile: profile)
        }
    }

    /// The policy of the README (and of ``PolicyDocument``'s documentation).
    static let examplePolicy = CompiledPolicy(version: 1, document: try! PolicyDocument(parsing: FuzzFixture.examplePolicy))

    /// Decides sample requests for a device holding `roles` in `zone`, and for it quarantined.
    private static func decideSamples(under policy: CompiledPolicy, zone: String, roles: [String]) {
        let device = DeviceFacts(
            id: "sensor-1", did: FuzzFixture.deviceDID.description, zone: zone, group: "line", attributes: ["model": "t1000"], roles: roles,
            quarantined: false)
        var quarantined = device
        quarantined.quarantined = true
        let context = AuthorizationContext(peer: "ops-1", peerZone: ZoneRules.defaultZone, sourceAddress: IPAddress("10.0.0.7"), time: FuzzFixture.now)
        for facts in [device, quarantined] {
            let subject = policy.subject(for: facts)
            for (action, resource) in sampleRequests {
                guard let request = try? AuthorizationRequest(action: action, resource: resource, context: context) else { continue }
                _ = Authorizer.decide(request, for: subject, zones: policy.zoneRules)
            }
        }
    }

    private static let sampleRequests = [
        ("publish", "telemetry/sensor-1/temp"), ("subscribe", "commands/sensor-1"), ("subscribe", "commands/#"),
        ("read", "firmware/t1000/fw-1.bin"), ("connect", "zone/line-3"), ("attest", "device/sensor-1"),
    ]
}
