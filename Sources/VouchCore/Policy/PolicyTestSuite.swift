import Foundation
import VouchKit

/// Expected decisions to check a policy against before uploading it (`vouch policy test`):
///
/// ```yaml
/// devices:
///   sensor-1: {zone: line-3, roles: [sensor], attributes: {model: t1000}}
///   ops-1: {zone: plant-ops, roles: [operator-console]}
///   broken-1: {zone: line-3, roles: [sensor], quarantined: true}
/// cases:
///   - {subject: sensor-1, action: publish, resource: telemetry/sensor-1/temp, expect: allow}
///   - {subject: sensor-1, action: publish, resource: telemetry/sensor-1/temp, expect: allow, context: {peer: ops-1}}
///   - {subject: broken-1, action: publish, resource: telemetry/broken-1/temp, expect: deny}
///   - subject: sensor-1
///     action: write
///     resource: config/line-3/rate
///     context: {sourceAddress: 10.0.0.7, time: "2026-01-01T12:00:00Z"}
///     expect: deny
/// ```
///
/// Device names are their ids (and `${device.id}`); their DID is `did:example:NAME`, their group `test`.
/// A case without `context.time` is decided at noon UTC.
public struct PolicyTestSuite: Sendable {
    /// One expected decision.
    public struct Case: Sendable {
        /// Where the case is written, such as `cases[3]`.
        public let name: String
        /// The device asking.
        public let subject: DeviceFacts
        /// What it asks.
        public let request: AuthorizationRequest
        /// Whether the policy should allow it.
        public let expectAllow: Bool
    }

    /// A case's outcome.
    public struct Result: Sendable {
        /// The case.
        public let testCase: Case
        /// What the policy decided.
        public let decision: AuthorizationDecision
        /// Whether the decision is the one expected.
        public var passed: Bool { decision.allowed == testCase.expectAllow }
    }

    /// The devices the cases speak of, by name.
    public let devices: [String: DeviceFacts]
    /// The cases, in the order written.
    public let cases: [Case]

    /// When a case without `context.time` is decided: noon UTC today, so that a result never
    /// depends on the hour the suite runs (only time-of-day conditions read the time).
    static var defaultTime: Date {
        let now = Int(Date().timeIntervalSince1970)
        return Date(timeIntervalSince1970: TimeInterval(now - now % 86_400 + 12 * 3600))
    }

    /// Reads a cases file (YAML or JSON); throws with every problem found.
    public init(parsing text: String) throws(PolicyDocumentError) {
        let root = try PolicyNode.parse(text)
        var reader = PolicyReader()
        var devices: [String: DeviceFacts] = [:]
        var cases: [Case] = []
        if let members = reader.map(root, "", known: ["devices", "cases"]) {
            if let node = members["devices"], let entries = reader.entries(node, "devices") {
                for (name, value) in entries {
                    let path = "devices.\(name)"
                    guard let fields = reader.map(value, path, known: ["zone", "roles", "attributes", "quarantined"]) else { continue }
                    let zone = fields["zone"].flatMap { reader.string($0, path + ".zone") } ?? ZoneRules.defaultZone
                    let roles = fields["roles"].map { reader.stringsOrOne($0, path + ".roles", what: "roles") } ?? []
                    var attributes: [String: String] = [:]
                    if let node = fields["attributes"], let pairs = reader.entries(node, path + ".attributes") {
                        for (key, value) in pairs {
                            if let text = reader.string(value, "\(path).attributes.\(key)") { attributes[key] = text }
                        }
                    }
                    var quarantined = false
                    if let node = fields["quarantined"], let text = reader.string(node, path + ".quarantined") {
                        guard text == "true" || text == "false" else {
                            reader.problem(path + ".quarantined", node, "must be true or false")
                            continue
                        }
                        quarantined = text == "true"
                    }
                    devices[name] = DeviceFacts(
                        id: name, did: "did:example:\(name)", zone: zone, group: "test", attributes: attributes, roles: roles, quarantined: quarantined
                    )
                }
            }
            if let node = members["cases"], let items = reader.list(node, "cases") {
                for (index, item) in items.enumerated() {
                    let path = "cases[\(index)]"
                    guard let fields = reader.map(item, path, known: ["subject", "action", "resource", "context", "expect", "name"]) else { continue }
                    var values: [String: String] = [:]
                    for key in ["subject", "action", "resource", "expect"] {
                        guard let node = fields[key] else {
                            reader.problem(path, item, "a case needs \(key)")
                            continue
                        }
                        values[key] = reader.string(node, "\(path).\(key)")
                    }
                    guard let subject = values["subject"], let action = values["action"], let resource = values["resource"], let expect = values["expect"] else {
                        continue
                    }
                    guard let facts = devices[subject] else {
                        reader.problem(path + ".subject", fields["subject"], "device \(subject.prefix(64)) is not listed under devices")
                        continue
                    }
                    guard expect == "allow" || expect == "deny" else {
                        reader.problem(path + ".expect", fields["expect"], "expect must be allow or deny")
                        continue
                    }
                    var context = AuthorizationContext(time: Self.defaultTime)
                    if let node = fields["context"], let given = reader.map(node, path + ".context", known: ["peer", "sourceAddress", "time"]) {
                        if let peerNode = given["peer"], let peer = reader.string(peerNode, path + ".context.peer") {
                            if let facts = devices[peer] {
                                context.peer = peer
                                context.peerZone = facts.quarantined ? ZoneRules.quarantineZone : facts.zone
                            } else {
                                reader.problem(path + ".context.peer", peerNode, "device \(peer.prefix(64)) is not listed under devices")
                            }
                        }
                        if let addressNode = given["sourceAddress"], let text = reader.string(addressNode, path + ".context.sourceAddress") {
                            if let address = IPAddress(text) {
                                context.sourceAddress = address
                            } else {
                                reader.problem(path + ".context.sourceAddress", addressNode, "\(text.prefix(64)) is not an IP address")
                            }
                        }
                        if let timeNode = given["time"], let text = reader.string(timeNode, path + ".context.time") {
                            if let time = RFC3339.parse(text) {
                                context.time = time
                            } else {
                                reader.problem(path + ".context.time", timeNode, RFC3339.refusal(text))
                            }
                        }
                    }
                    do {
                        let request = try AuthorizationRequest(action: action, resource: resource, context: context)
                        let name = fields["name"].flatMap { reader.string($0, path + ".name") } ?? path
                        cases.append(Case(name: name, subject: facts, request: request, expectAllow: expect == "allow"))
                    } catch {
                        reader.problem(path, item, error.reason)
                    }
                }
            }
        }
        guard reader.problems.isEmpty else { throw PolicyDocumentError(reader.problems) }
        self.devices = devices
        self.cases = cases
    }

    /// Decides every case under `policy`.
    public func run(_ policy: CompiledPolicy) -> [Result] {
        cases.map { testCase in
            let decision = Authorizer.decide(testCase.request, for: policy.subject(for: testCase.subject), zones: policy.zoneRules)
            return Result(testCase: testCase, decision: decision)
        }
    }
}
