import Foundation
import Testing
import VouchCore
import VouchKit

/// The policy used by most tests below.
let plantPolicy = """
    description: Plant 7
    zones:
      line-3: {description: Assembly line 3}
      plant-ops:
    flows:
      - from: line-3
        to: plant-ops
        allow: ["publish:telemetry/#", "connect:zone/plant-ops"]
    roles:
      sensor:
        allow:
          - publish:telemetry/${device.id}/#
          - subscribe:commands/${device.id}
          - read:firmware/${device.model}/*
          - connect:zone/line-3
        deny:
          - publish:telemetry/${device.id}/debug
      maintenance:
        statements:
          - effect: allow
            actions: [write, read]
            resources: ["config/${device.zone}/#"]
            conditions:
              sourceAddresses: [10.0.0.0/8, "2001:db8::/32"]
              timeOfDay: "06:00-22:00"
          - effect: deny
            actions: "*"
            resources: [config/+/secrets]
            conditions: {sourceAddresses: [192.168.0.0/16]}
    """

func device(
    _ id: String = "dev-1", zone: String = "line-3", roles: [String] = ["sensor"], attributes: [String: String] = ["model": "t1000"],
    quarantined: Bool = false
) -> DeviceFacts {
    DeviceFacts(id: id, did: "did:key:z6Mk\(id)", zone: zone, group: "sensors", attributes: attributes, roles: roles, quarantined: quarantined)
}

func decide(
    _ policy: CompiledPolicy, _ facts: DeviceFacts, _ action: String, _ resource: String, context: AuthorizationContext = AuthorizationContext()
) throws -> AuthorizationDecision {
    Authorizer.decide(try AuthorizationRequest(action: action, resource: resource, context: context), for: policy.subject(for: facts), zones: policy.zoneRules)
}

@Suite struct ResourcePatternTests {
    @Test(arguments: [
        ("telemetry/dev-1/#", "telemetry/dev-1", true),
        ("telemetry/dev-1/#", "telemetry/dev-1/temp/c", true),
        ("telemetry/dev-1/#", "telemetry/dev-2/temp", false),
        ("telemetry/+/temp", "telemetry/dev-9/temp", true),
        ("telemetry/+/temp", "telemetry/dev-9/x/temp", false),
        ("firmware/t1000/*", "firmware/t1000/2.1.bin", true),
        ("firmware/t1000/*", "firmware/t1000/a/b", false),
        ("firmware/fw-*.bin", "firmware/fw-2.1.bin", true),
        ("firmware/fw-*.bin", "firmware/fw-2.1.txt", false),
        ("firmware/fw-*-*.bin", "firmware/fw-a-b.bin", true),
        ("firmware/fw-*-*.bin", "firmware/fw-ab.bin", false),
        ("#", "anything/at/all", true),
        ("commands/dev-1", "commands/dev-1", true),
        ("commands/dev-1", "commands/dev-10", false),
        // Subscriptions: a filter is matched only when the pattern covers all it could name.
        ("commands/dev-1", "commands/+", false),
        ("commands/+", "commands/+", true),
        ("commands/#", "commands/+/x", true),
        ("commands/+", "commands/#", false),
        ("commands/dev-1/#", "commands/dev-1/#", true),
        ("firmware/fw-*", "firmware/+", false),
    ])
    func matching(pattern: String, resource: String, expected: Bool) throws {
        #expect(try ResourcePattern(pattern).matches(resource) == expected, "\(pattern) vs \(resource)")
    }

    @Test(arguments: ["a/#/b", "a/b#", "a/+b", "", "a/${device.id}", "a\u{1}b"])
    func malformedPatternsAreRefused(pattern: String) {
        #expect(throws: AuthorizationError.self) { try ResourcePattern(pattern) }
    }

    @Test func addressRanges() throws {
        let range = try IPAddressRange("10.0.0.0/8")
        #expect(range.contains(try #require(IPAddress("10.20.30.40"))))
        #expect(range.contains(try #require(IPAddress("::ffff:10.1.2.3"))))
        #expect(!range.contains(try #require(IPAddress("11.0.0.1"))))
        #expect(try IPAddressRange("2001:db8::/32").contains(try #require(IPAddress("2001:db8:1::7"))))
        #expect(throws: AuthorizationError.self) { try IPAddressRange("10.0.0.1/8") }
        #expect(throws: AuthorizationError.self) { try IPAddressRange("10.0.0.0/33") }
        #expect(throws: AuthorizationError.self) { try IPAddressRange("ten/8") }
    }

    @Test func timeWindowsWrapMidnight() throws {
        let night = try TimeOfDayWindow("22:00-06:00")
        let day = Date(timeIntervalSince1970: 12 * 3600)
        let late = Date(timeIntervalSince1970: 23 * 3600)
        #expect(!night.contains(day))
        #expect(night.contains(late))
        #expect(try TimeOfDayWindow("06:00-22:00").contains(day))
        #expect(throws: AuthorizationError.self) { try TimeOfDayWindow("6-22") }
        #expect(throws: AuthorizationError.self) { try TimeOfDayWindow("06:00-06:00") }
        #expect(throws: AuthorizationError.self) { try TimeOfDayWindow("24:00-00:00") }
        #expect(try TimeOfDayWindow("22:00-24:00").contains(late))
    }
}

@Suite struct PolicyEvaluationTests {
    let policy = CompiledPolicy(version: 3, document: try! PolicyDocument(parsing: plantPolicy))

    @Test func variablesAreFilledFromTheDevice() throws {
        let facts = device()
        #expect(try decide(policy, facts, "publish", "telemetry/dev-1/temp").allowed)
        #expect(try !decide(policy, facts, "publish", "telemetry/dev-2/temp").allowed)
        #expect(try decide(policy, facts, "subscribe", "commands/dev-1").allowed)
        #expect(try !decide(policy, facts, "subscribe", "commands/+").allowed)
        #expect(try decide(policy, facts, "read", "firmware/t1000/2.0.bin").allowed)
        #expect(try !decide(policy, facts, "read", "firmware/t2000/2.0.bin").allowed)
        let decision = try decide(policy, facts, "publish", "telemetry/dev-1/temp")
        #expect(decision.policyVersion == 3)
        #expect(decision.reasons.map(\.source) == ["roles.sensor.allow[0]"])
    }

    @Test func anExplicitDenyWins() throws {
        let decision = try decide(policy, device(), "publish", "telemetry/dev-1/debug")
        #expect(!decision.allowed)
        #expect(decision.reasons.first?.code == .explicitDeny)
        #expect(decision.reasons.first?.source == "roles.sensor.deny[0]")
    }

    @Test func denyByDefaultSaysSo() throws {
        let decision = try decide(policy, device(), "delete", "telemetry/dev-1/temp")
        #expect(!decision.allowed)
        #expect(decision.reasons.first?.code == .noAllow)
        #expect(try !decide(policy, device(roles: []), "publish", "telemetry/dev-1/temp").allowed)
        let undefined = try decide(policy, device(roles: ["ghost"]), "publish", "telemetry/dev-1/temp")
        #expect(undefined.reasons.contains { $0.code == .note && $0.message.contains("role ghost is not defined") })
    }

    @Test func aVariableValueIsNeverAWildcard() throws {
        // An attribute holding "#" must not widen read:firmware/${device.model}/* to everything.
        let facts = device(attributes: ["model": "#"])
        let decision = try decide(policy, facts, "read", "firmware/anything/x")
        #expect(!decision.allowed)
        #expect(decision.reasons.contains { $0.code == .note && $0.message.contains("${device.model}") })
        // Without the attribute, that statement does not apply, and the others still do.
        let bare = device(attributes: [:])
        #expect(try !decide(policy, bare, "read", "firmware/t1000/x").allowed)
        #expect(try decide(policy, bare, "publish", "telemetry/dev-1/x").allowed)
    }

    @Test func crossingZonesNeedsAFlow() throws {
        let facts = device()
        let toOps = AuthorizationContext(peer: "dev-9", peerZone: "plant-ops")
        let decision = try decide(policy, facts, "publish", "telemetry/dev-1/temp", context: toOps)
        #expect(decision.allowed)
        #expect(decision.reasons.contains { $0.code == .flow && $0.source == "flows[0].allow[0]" })
        // Same zone: no flow needed.
        #expect(try decide(policy, facts, "publish", "telemetry/dev-1/temp", context: AuthorizationContext(peerZone: "line-3")).allowed)
        // No flow from line-3 to default.
        let toDefault = try decide(policy, facts, "publish", "telemetry/dev-1/temp", context: AuthorizationContext(peer: "dev-7", peerZone: "default"))
        #expect(!toDefault.allowed)
        #expect(toDefault.reasons.first?.code == .noFlow)
        // A flow never grants what the roles do not.
        #expect(try !decide(policy, facts, "publish", "telemetry/dev-2/temp", context: toOps).allowed)
    }

    @Test func quarantineDeniesAllButItsAllowList() throws {
        let facts = device(quarantined: true)
        #expect(try !decide(policy, facts, "publish", "telemetry/dev-1/temp").allowed)
        #expect(try decide(policy, facts, "attest", "device/dev-1").allowed)
        #expect(try decide(policy, facts, "read", "firmware/t1000/2.1.bin").allowed)
        #expect(try decide(policy, facts, "update", "firmware/dev-1").allowed)
        #expect(try !decide(policy, facts, "update", "firmware/dev-2").allowed)
        let peer = try decide(policy, facts, "attest", "device/dev-1", context: AuthorizationContext(peerZone: "quarantine"))
        #expect(!peer.allowed)
        #expect(peer.reasons.first?.code == .quarantine)
        // Nobody reaches a quarantined peer either.
        let toQuarantined = try decide(policy, device(), "publish", "telemetry/dev-1/x", context: AuthorizationContext(peerZone: "quarantine"))
        #expect(toQuarantined.reasons.first?.code == .quarantine)
    }

    @Test func conditionsNarrowAllowsAndMissingContextAppliesDenies() throws {
        let facts = device(roles: ["maintenance"])
        let noon = Date(timeIntervalSince1970: TimeInterval(1_700_000_000 - 1_700_000_000 % 86_400 + 12 * 3600))
        let midnight = noon.addingTimeInterval(-12 * 3600)
        let inside = AuthorizationContext(sourceAddress: IPAddress("10.1.1.1"), time: noon)
        #expect(try decide(policy, facts, "write", "config/line-3/rate", context: inside).allowed)
        #expect(try !decide(policy, facts, "write", "config/line-3/rate", context: AuthorizationContext(sourceAddress: IPAddress("10.1.1.1"), time: midnight)).allowed)
        let outside = try decide(policy, facts, "write", "config/line-3/rate", context: AuthorizationContext(sourceAddress: IPAddress("172.16.0.1"), time: noon))
        #expect(!outside.allowed)
        #expect(outside.reasons.first?.message.contains("outside 10.0.0.0/8") == true)
        #expect(try !decide(policy, facts, "write", "config/line-3/rate", context: AuthorizationContext(time: noon)).allowed)
        // The deny on secrets applies from 192.168/16, and when no address is known.
        let secrets = try decide(policy, facts, "read", "config/line-3/secrets", context: AuthorizationContext(time: noon))
        #expect(secrets.reasons.first?.code == .explicitDeny)
        #expect(try decide(policy, facts, "read", "config/line-3/secrets", context: inside).allowed)
    }

    @Test func aWideSubscriptionCannotSlipPastADeny() throws {
        let policy = CompiledPolicy(version: 1, document: try PolicyDocument(parsing: """
            roles:
              r:
                allow: ["subscribe:commands/#", "subscribe:telemetry/#"]
                deny: ["subscribe:commands/admin", "subscribe:telemetry/+/debug", "subscribe:fw-${device.model}/x"]
            """))
        let facts = device(zone: "default", roles: ["r"])
        #expect(try decide(policy, facts, "subscribe", "commands/status").allowed)
        for filter in ["commands/#", "commands/+", "commands/admin", "telemetry/#", "telemetry/dev-1/+", "#"] {
            let decision = try decide(policy, facts, "subscribe", filter)
            #expect(!decision.allowed, "\(filter)")
            #expect(decision.reasons.first?.code == .explicitDeny, "\(filter)")
        }
        #expect(try decide(policy, facts, "subscribe", "telemetry/dev-1/temp").allowed)
    }

    @Test func aDeviceCannotLiftADenyThroughItsAttributes() throws {
        let policy = CompiledPolicy(version: 1, document: try PolicyDocument(parsing: """
            roles:
              r:
                allow: ["read:firmware/#"]
                deny: ["read:firmware/${device.model}/beta/#"]
            """))
        // With no model, or a model that cannot be a value, the deny widens instead of vanishing.
        for attributes in [[:], ["model": "#"], ["model": "a/b"], ["model": ".."]] as [[String: String]] {
            let facts = device(zone: "default", roles: ["r"], attributes: attributes)
            #expect(try !decide(policy, facts, "read", "firmware/t1000/beta/fw.bin").allowed, "\(attributes)")
            #expect(try decide(policy, facts, "read", "firmware/t1000/stable/fw.bin").allowed, "\(attributes)")
        }
        // "." and ".." never fill an allow either.
        let dots = self.policy.subject(for: device(attributes: ["model": ".."]))
        #expect(!dots.statements.contains { $0.source == "roles.sensor.allow[2]" })
        #expect(dots.notes.contains { $0.contains("${device.model}") })
    }

    @Test func aPeerWhoseZoneIsUnknownIsDenied() throws {
        let facts = device()
        let noZone = try decide(policy, facts, "publish", "telemetry/dev-1/t", context: AuthorizationContext(peer: "dev-9"))
        #expect(noZone.reasons.first?.code == .peer)
        let undefined = try decide(policy, facts, "publish", "telemetry/dev-1/t", context: AuthorizationContext(peer: "dev-9", peerZone: "mars"))
        #expect(undefined.reasons.first?.code == .peer)
    }

    @Test(arguments: ["a/#/b", "a/b#", "a/+b", "firmware/../x", "./a", "a/."])
    func malformedResourcesAreRefused(resource: String) {
        #expect(throws: AuthorizationError.self) { try AuthorizationRequest(action: "read", resource: resource) }
    }

    @Test func anUndefinedZoneDeniesEverything() throws {
        let decision = try decide(policy, device(zone: "line-9"), "publish", "telemetry/dev-1/temp")
        #expect(!decision.allowed)
        #expect(decision.reasons.first?.code == .unknownZone)
    }

    @Test func theEmptyPolicyDeniesEverything() throws {
        let empty = CompiledPolicy(version: 0, document: .empty)
        #expect(try !decide(empty, device(zone: "default"), "publish", "telemetry/dev-1/temp").allowed)
        #expect(try decide(empty, device(zone: "default", quarantined: true), "attest", "device/dev-1").allowed)
    }

    @Test func yamlInFlowStyleIsNotMistakenForJSON() throws {
        let policy = CompiledPolicy(version: 1, document: try PolicyDocument(parsing: "{zones: {line-3: {}}, roles: {sensor: {allow: ['publish:telemetry/${device.id}/#']}}}"))
        #expect(try decide(policy, device(), "publish", "telemetry/dev-1/a").allowed)
    }

    @Test func jsonAndYAMLReadAlike() throws {
        let json = """
            {"zones": {"line-3": {}}, "roles": {"sensor": {"allow": ["publish:telemetry/${device.id}/#"]}}}
            """
        let policy = CompiledPolicy(version: 1, document: try PolicyDocument(parsing: json))
        #expect(try decide(policy, device(), "publish", "telemetry/dev-1/a").allowed)
        #expect(try !decide(policy, device(), "publish", "telemetry/dev-2/a").allowed)
    }

    @Test func requestsAreChecked() {
        #expect(throws: AuthorizationError.self) { try AuthorizationRequest(action: "Publish", resource: "a") }
        #expect(throws: AuthorizationError.self) { try AuthorizationRequest(action: "*", resource: "a") }
        #expect(throws: AuthorizationError.self) { try AuthorizationRequest(action: "publish", resource: "") }
    }
}

@Suite struct PolicyValidationTests {
    func problems(_ text: String) -> [PolicyProblem] {
        do {
            _ = try PolicyDocument(parsing: text)
            return []
        } catch {
            return error.problems
        }
    }

    @Test func anUnknownKeyIsRefusedWithItsPlace() {
        let found = problems("""
            zones:
              line-3: {}
            roles:
              sensor:
                alow: ["publish:a"]
            """)
        #expect(found.count == 1)
        #expect(found.first?.path == "roles.sensor.alow")
        #expect(found.first?.location.line == 5)
        #expect(found.first?.description.contains("unknown key \"alow\"") == true)
    }

    @Test func badPatternsAreRefusedWithTheirPlace() {
        let found = problems("""
            roles:
              sensor:
                allow:
                  - publish:telemetry/#/x
                  - publish
                  - publish:telemetry/${device.colour!}
                deny: [Delete:x]
            """)
        #expect(found.map(\.path) == ["roles.sensor.allow[0]", "roles.sensor.allow[1]", "roles.sensor.allow[2]", "roles.sensor.deny[0]"])
        #expect(found[0].location.line == 4)
        #expect(found[0].message.contains("\"#\" must be a whole segment"))
        #expect(found[1].message.contains("ACTION:RESOURCE"))
        #expect(found[2].message.contains("unknown variable"))
    }

    @Test func aMisspeltActionIsRefusedWithTheKnownOnesAndAPolicyMayDeclareItsOwn() {
        let found = problems("""
            roles:
              sensor:
                allow: ["subscrib:commands/${device.id}", "publish:telemetry/#"]
                statements:
                  - {effect: allow, actions: [open-door, read], resources: ["doors/#"]}
            """)
        #expect(found.map(\.path) == ["roles.sensor.allow[0]", "roles.sensor.statements[0].actions"], "\(found)")
        #expect(found.first?.location.line == 3)
        #expect(found.first?.message.contains(
            "unknown action \"subscrib\"; the actions are attest, connect, delete, publish, read, receive, subscribe, update, write or *") == true, "\(found)")
        #expect(found.last?.message.contains("unknown action \"open-door\"") == true, "\(found)")
        let declared = problems("""
            actions: [open-door]
            roles:
              sensor:
                allow: ["open-door:doors/${device.zone}"]
                statements:
                  - {effect: allow, actions: [open-door, read], resources: ["doors/#"]}
            """)
        #expect(declared.isEmpty, "\(declared)")
        #expect(problems("actions: [Open]\n").first?.message.contains("must be 1–64 characters") == true)
    }

    @Test func anUnquotedVariableInAFlowListGetsAHintToQuoteIt() {
        let found = problems("""
            roles:
              sensor:
                allow: [read:x, publish:telemetry/${device.id}/#]
            """)
        #expect(found.count == 1 && found.first?.location.line == 3, "\(found)")
        #expect(found.first?.message.contains("quote a value that holds ${…}, as \"publish:telemetry/${device.id}/#\"") == true, "\(found)")
        // Quoted, it is read.
        #expect(problems("roles:\n  sensor:\n    allow: [read:x, \"publish:telemetry/${device.id}/#\"]\n").isEmpty)
    }

    @Test func zonesMustBeDefined() {
        let found = problems("""
            zones: {line-3: {}}
            flows:
              - {from: line-3, to: line-4, allow: ["publish:a"]}
              - {from: quarantine, to: line-3, allow: ["publish:a"]}
              - {from: line-3, to: default, allow: ["publish:a/${device.id}"]}
            roles:
              r:
                statements:
                  - {effect: allow, actions: [read], resources: [a], conditions: {peerZones: [nowhere]}}
            """)
        #expect(found.map(\.path) == ["flows[0].to", "flows[1].from", "flows[2].allow[0]", "roles.r.statements[0].conditions.peerZones"])
    }

    @Test func builtInZonesCannotBeRedefined() {
        #expect(problems("zones: {quarantine: {}}").first?.path == "zones.quarantine")
        #expect(problems("zones: {Line3: {}}").first?.path == "zones.Line3")
    }

    @Test func malformedDocumentsSayWhere() {
        #expect(problems("roles: [a, b]").first?.description.contains("must be a map") == true)
        #expect(problems("roles:\n  a: {allow: x}").first?.path == "roles.a.allow")
        #expect(problems("zones: {a: {}, a: {}}").first?.message.contains("repeats the key a") == true)
        #expect(problems("zones: [").first?.message.contains("not valid YAML") == true)
        #expect(problems("{\"zones\": ").first?.message.contains("not valid YAML") == true)
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        #expect(!problems(bomb).isEmpty)
    }

    @Test func everyProblemIsListed() {
        let found = problems("""
            zonez: {}
            roles:
              a: {allow: ["x:/#/"], deny: ["Y:z"]}
            flows: [{from: a}]
            """)
        #expect(found.count >= 4)
    }
}
