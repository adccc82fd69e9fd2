import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchAPI
import VouchCore
import VouchKit

/// The policy the authorization tests upload.
let plantPolicyYAML = """
    zones:
      line-3: {description: Assembly line 3}
      plant-ops: {}
    flows:
      - from: line-3
        to: plant-ops
        allow: ["publish:telemetry/#"]
    roles:
      sensor:
        allow:
          - publish:telemetry/${device.id}/#
          - subscribe:commands/${device.id}
          - read:firmware/${device.model}/*
        deny:
          - publish:telemetry/${device.id}/debug
      operator-console:
        allow: ["subscribe:telemetry/#"]
      maintenance:
        statements:
          - effect: allow
            actions: [write]
            resources: ["config/${device.zone}/#"]
            conditions: {sourceAddresses: [10.0.0.0/8]}
    """

/// A gateway's view of a fleet under test: enrolled devices and how to ask the server about them.
struct PolicyFleet {
    let client: any TestClientProtocol
    let admin: String

    @discardableResult
    func upload(_ text: String) async throws -> HTTPResult {
        try await client.call(.put, "/v1/admin/policy", apiKey: admin, headers: [.contentType: "application/yaml"], body: Array(text.utf8))
    }

    /// Enrolls a device into a group placing it in `zone` with `roles`; returns its id and answer.
    func enroll(group: String, zone: String, roles: [String], device: DeviceAgent = DeviceAgent(), model: String = "t1000") async throws -> (String, JSONValue) {
        let token = try #require(try await client.createGroup(group, apiKey: admin, extra: [
            "unlimitedTokenUses": true, "defaultZone": .string(zone), "defaultRoles": .array(roles.map(JSONValue.string)),
        ]))
        let result = try await client.call(.post, "/v1/enrollments", json: try await device.enrollmentBody(
            nonce: try await client.nonce(), group: group, token: token, attributes: ["model": model, "serial": "s-\(group)"]))
        #expect(result.status == 201, "\(result.text)")
        return (try #require(result.json["deviceId"]?.stringValue), result.json)
    }

    /// The identity credential and role credentials of an enrollment answer, in that order.
    static func credentials(in answer: JSONValue) throws -> [String] {
        [try #require(answer["identityCredential"]?.stringValue)] + (answer["roleCredentials"]?.arrayValue.compactMap(\.stringValue) ?? [])
    }

    func authorize(_ subject: String, _ action: String, _ resource: String, context: [String: JSONValue] = [:]) async throws -> HTTPResult {
        var body: [String: JSONValue] = ["subject": .string(subject), "action": .string(action), "resource": .string(resource)]
        if !context.isEmpty { body["context"] = .object(context) }
        return try await client.call(.post, "/v1/authorize", json: .object(body), apiKey: admin)
    }

    func allowed(_ subject: String, _ action: String, _ resource: String, context: [String: JSONValue] = [:]) async throws -> Bool {
        let result = try await authorize(subject, action, resource, context: context)
        #expect(result.status == 200, "\(result.text)")
        return try #require(result.json["allowed"].flatMap { if case .bool(let flag) = $0 { flag } else { nil } } as Bool?)
    }
}

@Suite("Authorization")
struct AuthorizationTests {
    @Test func policiesAreValidatedVersionedAndRecorded() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await client.call(.get, "/v1/admin/policy", apiKey: admin).json["version"] == 0)

                let bad = try await fleet.upload("roles:\n  sensor:\n    alow: [\"publish:a\"]\n    deny: [\"publish:a/#/b\"]\n")
                expectProblem(bad, 422, "2 problems")
                let problems = bad.json["problems"]?.arrayValue ?? []
                #expect(problems.map { $0["path"]?.stringValue } == ["roles.sensor.alow", "roles.sensor.deny[0]"])
                #expect(problems.first?["line"] == 3)
                #expect(try await client.call(.get, "/v1/admin/policy", apiKey: admin).json["version"] == 0)

                let first = try await fleet.upload(plantPolicyYAML)
                #expect(first.status == 201, "\(first.text)")
                #expect(first.json["policy"]?["version"] == 1)
                #expect(first.json["policy"]?["roles"] == ["sensor", "operator-console", "maintenance"])
                let again = try await fleet.upload(plantPolicyYAML)
                #expect(again.status == 200)
                #expect(again.json["created"] == false)
                let second = try await fleet.upload(plantPolicyYAML + "\n# comment\n")
                #expect(second.json["policy"]?["version"] == 2)

                let current = try await client.call(.get, "/v1/admin/policy", apiKey: admin).json
                #expect(current["version"] == 2)
                #expect(current["source"]?.stringValue?.hasSuffix("# comment\n") == true)
                #expect(try await client.call(.get, "/v1/admin/policy?version=1", apiKey: admin).json["source"]?.stringValue == plantPolicyYAML)
                expectProblem(try await client.call(.get, "/v1/admin/policy?version=9", apiKey: admin), 404, "no policy version 9")
                #expect(try await client.call(.get, "/v1/admin/policy/versions", apiKey: admin).json.arrayValue.map { $0["version"] } == [2, 1])
                let events = try await client.call(.get, "/v1/events?after=0", apiKey: admin).json["events"]?.arrayValue ?? []
                #expect(events.filter { $0["kind"] == "policy.updated" }.map { $0["data"]?["version"] } == [1, 2])

                // Uploading needs operator scope; reading needs a key.
                let readOnly = try await client.vouch(.apiKey(admin)).createAPIKey(CreateAPIKey(name: "ro")).secret
                expectProblem(try await client.call(.put, "/v1/admin/policy", apiKey: readOnly, body: Array("{}".utf8)), 403, "operator")
                #expect(try await client.call(.get, "/v1/admin/policy").status == 401)
                expectProblem(try await client.call(.put, "/v1/admin/policy", apiKey: admin, body: Array("  ".utf8)), 400, "policy document")
            }
        }
    }

    @Test func decisionsFollowRolesZonesAndState() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(plantPolicyYAML).status == 201)
                let device = DeviceAgent()
                let (id, _) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"], device: device)
                let (ops, _) = try await fleet.enroll(group: "ops", zone: "plant-ops", roles: ["operator-console"])
                let (other, _) = try await fleet.enroll(group: "lobby", zone: "default", roles: [])

                let allow = try await fleet.authorize(id, "publish", "telemetry/\(id)/temp")
                #expect(allow.json["decision"] == "allow")
                #expect(allow.json["policyVersion"] == 1)
                #expect(allow.json["zone"] == "line-3")
                #expect(allow.json["reasons"]?.arrayValue.first?["source"] == "roles.sensor.allow[0]")
                // By DID too.
                #expect(try await fleet.allowed(device.did.description, "read", "firmware/t1000/fw.bin"))
                #expect(try await !fleet.allowed(id, "read", "firmware/t2000/fw.bin"))
                // Explicit deny wins; default deny says so.
                let debug = try await fleet.authorize(id, "publish", "telemetry/\(id)/debug")
                #expect(debug.json["decision"] == "deny")
                #expect(debug.json["reasons"]?.arrayValue.first?["code"] == "explicit-deny")
                let other1 = try await fleet.authorize(id, "publish", "telemetry/\(other)/x")
                #expect(other1.json["reasons"]?.arrayValue.first?["code"] == "no-allow")
                // A subscription filter wider than the grant is refused.
                #expect(try await fleet.allowed(id, "subscribe", "commands/\(id)"))
                #expect(try await !fleet.allowed(id, "subscribe", "commands/+"))
                // Zones: a flow lets line-3 publish to plant-ops; nothing lets it reach default.
                #expect(try await fleet.allowed(id, "publish", "telemetry/\(id)/t", context: ["peer": .string(ops)]))
                let noFlow = try await fleet.authorize(id, "publish", "telemetry/\(id)/t", context: ["peer": .string(other)])
                #expect(noFlow.json["reasons"]?.arrayValue.first?["code"] == "no-flow")
                let ghostPeer = try await fleet.authorize(id, "publish", "telemetry/\(id)/t", context: ["peer": "dev_nobody"])
                #expect(ghostPeer.json["reasons"]?.arrayValue.first?["code"] == "peer")
                // Conditions read the context.
                #expect(try await !fleet.allowed(ops, "write", "config/plant-ops/x", context: ["sourceAddress": "10.0.0.7"]))

                // Unknown devices, malformed requests.
                #expect(try await fleet.authorize("dev_nobody", "publish", "x").json["decision"] == "deny")
                expectProblem(try await fleet.authorize(id, "Publish", "x"), 400, "action \"Publish\"")
                expectProblem(try await fleet.authorize(id, "publish", "x", context: ["sourceAddress": "10.0.0"]), 400, "sourceAddress")
                expectProblem(try await fleet.authorize(id, "publish", "x", context: ["time": "yesterday"]), 400, "RFC 3339")
                await expectRefusal(401, "send an API key") { try await client.vouch().authorize(AuthorizeBody(subject: id, action: "publish", resource: "x")) }

                // Reassignment takes effect at once; undefined zones and roles are refused.
                let operatorClient = client.vouch(.apiKey(admin))
                await expectRefusal(422, "zone line-9 is not defined") { try await operatorClient.assign(id, AssignmentRequest(zone: "line-9")) }
                await expectRefusal(422, "role ghost") { try await operatorClient.assign(id, AssignmentRequest(roles: ["ghost"])) }
                await expectRefusal(422, "/quarantine") { try await operatorClient.assign(id, AssignmentRequest(zone: "quarantine")) }
                let moved = try await operatorClient.assign(id, AssignmentRequest(zone: "plant-ops", roles: ["sensor", "maintenance"]))
                #expect(moved.zone == "plant-ops" && moved.roles == ["sensor", "maintenance"])
                #expect(try await fleet.allowed(id, "write", "config/plant-ops/rate", context: ["sourceAddress": "10.1.2.3"]))
                #expect(try await !fleet.allowed(id, "write", "config/plant-ops/rate", context: ["sourceAddress": "192.0.2.1"]))
                #expect(try await fleet.allowed(id, "publish", "telemetry/\(id)/t", context: ["peer": .string(ops)]))
                let history = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json
                #expect(history["history"]?.arrayValue.contains { $0["kind"] == "device.assigned" && $0["data"]?["zone"]?["to"] == "plant-ops" } == true)

                // Quarantine: only the allow-list; suspension: nothing. An admin key's questions count no denials.
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/quarantine", apiKey: admin).status == 200)
                let quarantined = try await fleet.authorize(id, "publish", "telemetry/\(id)/t")
                #expect(quarantined.json["zone"] == "quarantine")
                #expect(quarantined.json["reasons"]?.arrayValue.first?["message"]?.stringValue?.contains("quarantine allow-list") == true)
                #expect(try await fleet.allowed(id, "attest", "device/\(id)"))
                #expect(try await fleet.authorize(ops, "subscribe", "telemetry/x", context: ["peer": .string(id)]).json["reasons"]?.arrayValue.first?["code"] == "quarantine")
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/release", apiKey: admin).status == 200)
                #expect(try await fleet.allowed(id, "publish", "telemetry/\(id)/t"))
                #expect(try await client.vouch(.apiKey(admin)).act(.suspend, on: id).device.state == "suspended")
                let suspended = try await fleet.authorize(id, "publish", "telemetry/\(id)/t")
                #expect(suspended.json["reasons"]?.arrayValue.first?["message"]?.stringValue?.contains("suspended") == true)
                let denials = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json["activity"]?["metrics"]?["policy_denials"]
                #expect(denials == nil)
            }
        }
    }

    @Test func malformedBodiesAndRevokedKeysAreRefused() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(plantPolicyYAML).status == 201)
                let (id, _) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"])
                func post(_ text: String, key: String) async throws -> HTTPResult {
                    try await client.call(.post, "/v1/authorize", apiKey: key, headers: [.contentType: "application/json"], body: Array(text.utf8))
                }
                expectProblem(try await post("", key: admin), 400, "needs a JSON body")
                expectProblem(try await post("not json", key: admin), 400, "must be a JSON object")
                expectProblem(try await post(#"{"subject": "\#(id)", "resource": "x"}"#, key: admin), 400, "action is required")
                expectProblem(try await post(#"{"subject": "\#(id)", "action": "publish", "action": "read", "resource": "x"}"#, key: admin), 400, "repeats")
                expectProblem(try await post(#"{"subject": 7, "action": "publish", "resource": "x"}"#, key: admin), 400, "must be a JSON object")
                let good = #"{"subject": "\#(id)", "action": "publish", "resource": "telemetry/\#(id)/t", "extra": [1, {"a": null}]}"#
                #expect(try await post(good, key: admin).json["decision"] == "allow")

                // A key that decided a moment ago stops working the moment it is revoked.
                let created = try await client.vouch(.apiKey(admin)).createAPIKey(CreateAPIKey(name: "broker"))
                let broker = created.secret
                #expect(try await post(good, key: broker).status == 200)
                try await client.vouch(.apiKey(admin)).revokeAPIKey(created.id)
                expectProblem(try await post(good, key: broker), 401, "unknown or revoked")
            }
        }
    }

    @Test func aPresentedCredentialIdentifiesTheSubject() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(plantPolicyYAML).status == 201)
                let device = DeviceAgent()
                let (id, answer) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"], device: device)
                let credentials = try PolicyFleet.credentials(in: answer)
                let presentation = try await Presentation.create(credentials: credentials, holderKey: device.key, nonce: "n-1", audience: "did:web:gateway")
                let answered = try await fleet.authorize(presentation, "publish", "telemetry/\(id)/t")
                #expect(answered.json["decision"] == "allow", "\(answered.text)")
                #expect(answered.json["device"] == .string(id))
                // Signed by another key: refused, not decided.
                let forged = try await Presentation.create(credentials: credentials, holderKey: SigningKey.generate(.ed25519), nonce: "n-1", audience: "did:web:gateway")
                expectProblem(try await fleet.authorize(forged, "publish", "telemetry/\(id)/t"), 422, "presentation does not verify")
            }
        }
    }
}
