import Foundation
import HTTPTypes
import HummingbirdTesting
import SwiftASN1
import Testing
import VouchAPI
import VouchCore
import VouchKit

/// Regression tests for the holes an outside review found (issue 14), one test per hole.
@Suite("Hardening: holes an outside review found")
struct HardeningTests {
    /// Hole 1: an envelope whose `iat` is huge stopped the server (a trap converting its skew to
    /// `Int`). Every outside time is range-checked where it is read: the envelope is refused as
    /// malformed, and the server goes on answering.
    @Test func hugeTimesInSignedEnvelopesAreRefusedNotTrapped() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(plantPolicyYAML).status == 201)
                let device = DeviceAgent()
                let (id, _) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"], device: device)
                let token = try await device.accessToken(client, deviceID: id)
                var batch: [String] = []
                for (sequence, seconds) in [(1, 1e19), (2, 1e300), (3, -1e300), (4, -1.0)] as [(UInt64, Double)] {
                    batch.append(try await TelemetryEnvelope(
                        device: device.did, sequence: sequence, time: Date(timeIntervalSince1970: seconds), topic: "telemetry/\(id)/t",
                        payload: Data("1".utf8)
                    ).signed(with: device.key))
                }
                batch.append(try await TelemetryEnvelope(device: device.did, sequence: 5, topic: "telemetry/\(id)/t", payload: Data("1".utf8)).signed(with: device.key))
                let answer = try await fleet.send(batch, token: token)
                #expect(answer.status == 200, "\(answer.text)")
                let results = answer.json["results"]?.arrayValue ?? []
                #expect(results.map { $0["reason"]?.stringValue ?? $0["status"]?.stringValue ?? "" } == ["format", "format", "format", "format", "accepted"])
                #expect(results.first?["detail"]?.stringValue?.contains("iat must be seconds since 1970") == true, "\(answer.text)")

                // The same through a firmware measurement: refused with a reason, not a trap.
                let measurement = try FirmwareMeasurement(image: Data("image".utf8), version: "1.0")
                let late = try await measurement.envelope(device: device.did, sequence: 6, time: Date(timeIntervalSince1970: 1e19)).signed(with: device.key)
                expectProblem(
                    try await client.call(.post, "/v1/devices/self/attestation", json: ["measurement": .string(late)], as: token),
                    422, "iat must be seconds since 1970")
                #expect(try await client.call(.get, "/healthz").status == 200)
            }
        }
    }

    /// Hole 2: quarantining a suspended device lifted its suspension's hold. The transition is
    /// refused, and the automated responder leaves a device that cannot act as it is (and says so).
    @Test func aSuspendedDeviceStaysSuspendedWhateverRulesOrOperatorsDo() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(plantPolicyYAML + """

                    monitoring:
                      responses:
                        - {name: denials-quarantine, when: signal == policy.denied, then: quarantine}
                    """).status == 201)
                let device = DeviceAgent()
                let (id, _) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"], device: device)
                #expect(try await client.vouch(.apiKey(admin)).act(.suspend, on: id).device.state == "suspended")
                let refused = try await client.call(.post, "/v1/admin/devices/\(id)/quarantine", apiKey: admin)
                expectProblem(refused, 409, "a suspended device cannot quarantine")
                #expect(refused.json["legalActions"] == "reinstate revoke decommission")

                // An enforcement point's denial about the suspended device fires the rule; the
                // responder records that it skipped it, and the device stays suspended.
                let gateway = try await fleet.apiKey("broker", scope: "gateway")
                let denied = try await client.call(.post, "/v1/authorize", json: [
                    "subject": .string(id), "action": "publish", "resource": .string("telemetry/\(id)/t"),
                ], apiKey: gateway)
                #expect(denied.json["decision"] == "deny")
                try await fleet.eventually("the responder skips the suspended device") {
                    try await fleet.events(of: id).contains { $0["kind"] == "monitor.skipped" && $0["data"]?["state"] == "suspended" }
                }
                let record = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json
                #expect(record["device"]?["state"] == "suspended")
                #expect(record["certificates"]?.arrayValue.allSatisfy { $0["status"] == "on-hold" } == true)
                let (nonce, proof) = try await device.proof(client, deviceID: id)
                expectProblem(
                    try await client.call(.post, "/v1/auth/token", json: try JSONValue(encoding: TokenRequest(nonce: nonce, proof: proof)), headers: try device.dpop(.post, "/v1/auth/token")),
                    403, "suspended")
            }
        }
    }

    /// Hole 3: any API key's questions to `POST /v1/authorize` counted denials against the
    /// device. Only an enforcement point's (scope `gateway`) do; a gateway key reads nothing else.
    @Test func onlyGatewayQuestionsMoveAScore() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(plantPolicyYAML).status == 201)
                let (id, _) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"])
                let reader = try await fleet.apiKey("reader", scope: "read-only")
                let gateway = try await fleet.apiKey("broker", scope: "gateway")
                let question: JSONValue = ["subject": .string(id), "action": "publish", "resource": "telemetry/someone-else/t"]
                for key in [admin, reader] {
                    let answer = try await client.call(.post, "/v1/authorize", json: question, apiKey: key)
                    #expect(answer.json["decision"] == "deny", "\(answer.text)")
                }
                func denials() async throws -> Double {
                    try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json["activity"]?["metrics"]?["policy_denials"]?["1m"]?.numberValue ?? 0
                }
                #expect(try await denials() == 0)
                #expect(try await client.call(.get, "/v1/devices/\(id)/trust", apiKey: admin).json["score"] == 100)

                #expect(try await client.call(.post, "/v1/authorize", json: question, apiKey: gateway).json["decision"] == "deny")
                #expect(try await denials() == 1)
                let trust = try await client.call(.get, "/v1/devices/\(id)/trust", apiKey: admin).json
                #expect((trust["score"]?.numberValue ?? 100) < 100, "\(trust)")

                // A gateway key asks, and that is all it does.
                expectProblem(try await client.call(.get, "/v1/admin/devices", apiKey: gateway), 403, "needs read-only")
                expectProblem(try await client.call(.get, "/v1/admin/policy", apiKey: gateway), 403, "needs read-only")
            }
        }
    }

    /// Hole 4: key rotation skipped the gates renewal has (a pending step-up, a group that issues
    /// only to known-good firmware), and so did an operator's approval. Every path that issues
    /// applies them; the firmware must be shown fresh (hole 9: answering the request's nonce).
    @Test func everyPathThatIssuesAppliesTheSameGates() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(plantPolicyYAML + """

                    monitoring:
                      responses:
                        - {name: clock, when: signal == clock.skew, then: step-up}
                    """).status == 201)
                let good = try FirmwareMeasurement(image: Data("image 4.0".utf8), version: "4.0")
                let homebrew = try FirmwareMeasurement(image: Data("homebrew".utf8), version: "0.1")
                #expect(try await client.call(.post, "/v1/admin/firmware", json: [
                    "model": "t1000", "version": "4.0", "sha256": .string(good.sha256),
                ], apiKey: admin).status == 201)

                // Enrolls into a group requiring known-good firmware, reporting `firmware`.
                func enroll(_ device: DeviceAgent, group: String, token: String, firmware: FirmwareMeasurement) async throws -> HTTPResult {
                    let nonce = try await client.nonce()
                    guard case .object(var body) = try await device.enrollmentBody(nonce: nonce, group: group, token: token, attributes: ["model": "t1000"]) else {
                        throw CancellationError()
                    }
                    body["measurement"] = .string(try await firmware.answering(nonce).envelope(device: device.did, sequence: 1).signed(with: device.key))
                    return try await client.call(.post, "/v1/enrollments", json: .object(body))
                }
                let strict = try #require(try await client.createGroup("strict", apiKey: admin, extra: [
                    "unlimitedTokenUses": true, "requireKnownFirmware": true, "defaultZone": "line-3", "defaultRoles": ["sensor"],
                ]))
                let device = DeviceAgent()
                let enrolled = try await enroll(device, group: "strict", token: strict, firmware: good)
                #expect(enrolled.status == 201, "\(enrolled.text)")
                let id = try #require(enrolled.json["deviceId"]?.stringValue)

                func rotation(to newKey: SigningKey, measurement: FirmwareMeasurement?) async throws -> JSONValue {
                    let (nonce, _) = try await device.proof(client, deviceID: id, purpose: .rotate)
                    let payload = DeviceProof(nonce: nonce, deviceId: id, purpose: .rotate, newKeyThumbprint: newKey.publicKey.thumbprint)
                    var body: [String: JSONValue] = [
                        "nonce": .string(nonce), "csr": .string(try newKey.certificateSigningRequest(commonName: "rotated").serializeAsPEM().pemString),
                        "proof": .string(try await payload.sign(with: newKey)), "previousKeyProof": .string(try await payload.sign(with: device.key)),
                    ]
                    if let measurement {
                        body["measurement"] = .string(try await measurement.answering(nonce).envelope(device: device.did, sequence: 9).signed(with: device.key))
                    }
                    return .object(body)
                }
                // Rotation: refused without a fresh known-good measurement, or with an unknown one.
                let newKey = SigningKey.generate(.ed25519)
                expectProblem(try await client.call(.post, "/v1/devices/self/rotate", json: try await rotation(to: newKey, measurement: nil)), 409, "known-good firmware")
                expectProblem(try await client.call(.post, "/v1/devices/self/rotate", json: try await rotation(to: newKey, measurement: homebrew)), 409, "is unknown")

                // A pending step-up stops rotation too, even with good firmware shown.
                let token = try await device.accessToken(client, deviceID: id)
                let stale = try await TelemetryEnvelope(
                    device: device.did, sequence: 2, time: Date().addingTimeInterval(-3600), topic: "telemetry/\(id)/t", payload: Data()
                ).signed(with: device.key)
                #expect(try await fleet.send([stale], token: token).json["results"]?.arrayValue.first?["reason"] == "clock")
                try await fleet.eventually("the step-up is asked") {
                    try await fleet.events(of: id).contains { $0["kind"] == "monitor.step-up" }
                }
                let stepUp = try await client.call(.post, "/v1/devices/self/rotate", json: try await rotation(to: newKey, measurement: good))
                expectProblem(stepUp, 403, "asked to step up")
                #expect(stepUp.json["stepUp"] == "firmware-attestation")
                #expect(try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json["device"]?["did"] == .string(device.did.description))

                // Attesting good firmware answering a nonce clears it; a boot report alone does not.
                let boot = try await client.call(.post, "/v1/devices/self/attestation", json: [
                    "measurement": .string(try await good.envelope(device: device.did, sequence: 10).signed(with: device.key)),
                ], as: token)
                #expect(boot.json["status"] == "good", "\(boot.text)")
                expectProblem(try await client.call(.post, "/v1/devices/self/rotate", json: try await rotation(to: newKey, measurement: good)), 403, "asked to step up")
                let (nonce, _) = try await device.proof(client, deviceID: id)
                let attested = try await client.call(.post, "/v1/devices/self/attestation", json: [
                    "nonce": .string(nonce),
                    "measurement": .string(try await good.answering(nonce).envelope(device: device.did, sequence: 11).signed(with: device.key)),
                ], as: token)
                #expect(attested.json["status"] == "good", "\(attested.text)")
                let rotated = try await client.call(.post, "/v1/devices/self/rotate", json: try await rotation(to: newKey, measurement: good))
                #expect(rotated.status == 201, "\(rotated.text)")
                #expect(rotated.json["firmware"]?["status"] == "good")

                // Approval: an operator cannot issue to a pending device whose firmware is unknown.
                let manual = try #require(try await client.createGroup("strict-manual", apiKey: admin, extra: [
                    "unlimitedTokenUses": true, "requireKnownFirmware": true, "approval": "manual",
                ]))
                let unknown = try await enroll(DeviceAgent(), group: "strict-manual", token: manual, firmware: homebrew)
                #expect(unknown.status == 202, "\(unknown.text)")
                let pending = try #require(unknown.json["deviceId"]?.stringValue)
                expectProblem(try await client.call(.post, "/v1/admin/devices/\(pending)/approve", apiKey: admin), 409, "known-good firmware")
                #expect(try await client.call(.get, "/v1/admin/devices/\(pending)", apiKey: admin).json["certificates"]?.arrayValue.isEmpty == true)
                let known = try await enroll(DeviceAgent(), group: "strict-manual", token: manual, firmware: good)
                let approvable = try #require(known.json["deviceId"]?.stringValue)
                #expect(try await client.call(.post, "/v1/admin/devices/\(approvable)/approve", apiKey: admin).status == 200)
            }
        }
    }

    /// Hole 9: a measurement made for no question, or for another, must not pass a gate: the
    /// enrollment's must answer the enrollment nonce, and a nonce serves one measurement only.
    @Test func measurementsAnswerTheServersQuestionOnce() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let good = try FirmwareMeasurement(image: Data("image 5.0".utf8), version: "5.0")
                let token = try #require(try await client.createGroup("measured", apiKey: admin, extra: ["unlimitedTokenUses": true]))
                let device = DeviceAgent()
                let nonce = try await client.nonce()
                guard case .object(var body) = try await device.enrollmentBody(nonce: nonce, group: "measured", token: token) else { return }
                body["measurement"] = .string(try await good.envelope(device: device.did, sequence: 1).signed(with: device.key))
                expectProblem(try await client.call(.post, "/v1/enrollments", json: .object(body)), 422, "must answer this request's nonce")
                body["measurement"] = .string(try await good.answering(nonce).envelope(device: device.did, sequence: 1).signed(with: device.key))
                let enrolled = try await client.call(.post, "/v1/enrollments", json: .object(body))
                #expect(enrolled.status == 201, "\(enrolled.text)")
                let id = try #require(enrolled.json["deviceId"]?.stringValue)
                let bearer = try await device.accessToken(client, deviceID: id)

                let (challenge, _) = try await device.proof(client, deviceID: id)
                let report: JSONValue = [
                    "nonce": .string(challenge),
                    "measurement": .string(try await good.answering(challenge).envelope(device: device.did, sequence: 2).signed(with: device.key)),
                ]
                #expect(try await client.call(.post, "/v1/devices/self/attestation", json: report, as: bearer).status == 200)
                expectProblem(try await client.call(.post, "/v1/devices/self/attestation", json: report, as: bearer), 401, "already used")
                let (other, _) = try await device.proof(client, deviceID: id)
                expectProblem(try await client.call(.post, "/v1/devices/self/attestation", json: [
                    "nonce": .string(other), "measurement": report["measurement"] ?? .null,
                ], as: bearer), 422, "must answer this request's nonce")
            }
        }
    }

    /// Hole 8: access tokens were bearer. They are bound to the device key (RFC 9449): each use
    /// needs a fresh DPoP proof by that key for the method, URL and token, once. A token copied to
    /// another host is useless.
    @Test func aCopiedAccessTokenIsUselessWithoutTheDeviceKey() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let device = DeviceAgent()
                let (id, _) = try await RevocationTests.enroll(client, admin: admin, device: device)
                let thief = DeviceAgent()

                // Asking for a token: a DPoP proof by the device's own key is needed.
                let (nonce, proof) = try await device.proof(client, deviceID: id)
                let body: JSONValue = ["nonce": .string(nonce), "proof": .string(proof)]
                expectProblem(try await client.call(.post, "/v1/auth/token", json: body), 401, "send a DPoP proof")
                expectProblem(
                    try await client.call(.post, "/v1/auth/token", json: body, headers: try thief.dpop(.post, "/v1/auth/token")), 401,
                    "must be signed by the key of device")
                let token = try await device.accessToken(client, deviceID: id)
                let claims = try claims(of: token.token)
                #expect(claims["cnf"]?["jkt"]?.stringValue == device.key.publicKey.thumbprint)
                #expect(claims["cnf"]?["x5t#S256"] == nil)
                #expect(try await client.call(.get, "/v1/devices/self", as: token).status == 200)

                // The stolen token: as a bearer, with the thief's proofs, or with a replayed proof.
                expectProblem(
                    try await client.call(.get, "/v1/devices/self", headers: [.authorization: "Bearer \(token.token)"]), 401, "bound to the device key")
                expectProblem(try await client.call(.get, "/v1/devices/self", as: DeviceToken(token: token.token, device: thief)), 401, "signed by another key")
                let headers = try device.dpop(.get, "/v1/devices/self", token: token.token)
                #expect(try await client.call(.get, "/v1/devices/self", headers: headers).status == 200)
                expectProblem(try await client.call(.get, "/v1/devices/self", headers: headers), 401, "used before")
                // A proof for another request, another server, or without the token's hash.
                expectProblem(try await client.call(.get, "/v1/devices/self", headers: try device.dpop(.get, "/v1/devices/self/trust", token: token.token)), 401, "not for /v1/devices/self")
                expectProblem(try await client.call(.get, "/v1/devices/self", headers: try device.dpop(.post, "/v1/devices/self", token: token.token)), 401, "is for POST")
                expectProblem(
                    try await client.call(.get, "/v1/devices/self", headers: try device.dpop(.get, "/v1/devices/self", token: token.token, origin: "https://evil.test")), 401,
                    "not for this server")
                var unbound = try device.dpop(.get, "/v1/devices/self")
                unbound[.authorization] = "DPoP \(token.token)"
                expectProblem(try await client.call(.get, "/v1/devices/self", headers: unbound), 401, "not bound to this access token")
                // A proof from an hour ago, or with a huge time, is refused as such.
                let old = try DPoPProof.sign(method: "GET", url: "https://vouch.test/v1/devices/self", accessToken: token.token, key: device.key, now: Date().addingTimeInterval(-3600))
                expectProblem(try await client.call(.get, "/v1/devices/self", headers: [.authorization: "DPoP \(token.token)", .dpop: old]), 401, "more than 60 s from now")
                let far = try DPoPProof.sign(method: "GET", url: "https://vouch.test/v1/devices/self", accessToken: token.token, key: device.key, now: Date(timeIntervalSince1970: 1e19))
                expectProblem(try await client.call(.get, "/v1/devices/self", headers: [.authorization: "DPoP \(token.token)", .dpop: far]), 401, "iat must be seconds since 1970")
                #expect(try await client.call(.get, "/v1/devices/self", as: token).json["id"] == .string(id))
            }
        }
    }

    /// Hole 7: the public log and endpoints leaked. Events carry no API-key names or scopes and no
    /// detectors' words (which name source addresses); an enrollment is polled only by the device
    /// (hole 7's GET /v1/enrollments/{id} is in EnrollmentTests); /metrics needs an operator's key.
    @Test func thePublicLogAndEndpointsPublishNoPrivateDetail() async throws {
        try await withDataDirectory { dir in
            // On a real socket, so that requests have a source address the detectors see.
            try await withServer(dataDirectory: dir, setup: .live) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(monitoredPolicyYAML).status == 201)
                let reader = try await fleet.apiKey("billing-team-reader", scope: "read-only")
                let gateway = try await fleet.apiKey("plant-7-broker", scope: "gateway")
                let device = DeviceAgent()
                let (id, _) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"], device: device)
                let token = try await device.accessToken(client, deviceID: id)
                let forged = try await TelemetryEnvelope(device: device.did, sequence: 1, topic: "telemetry/\(id)/t", payload: Data())
                    .signed(with: SigningKey.generate(.ed25519))
                #expect(try await fleet.send([forged], token: token).json["results"]?.arrayValue.first?["reason"] == "forged")
                try await fleet.eventually("the device is quarantined") {
                    try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json["device"]?["state"] == "quarantined"
                }
                // The operator still reads every detail, the source address included.
                let trust = try await client.call(.get, "/v1/devices/\(id)/trust", apiKey: reader).json
                #expect(trust["signals"]?.arrayValue.contains { $0["detail"]?.stringValue?.contains("not signed by the device's key") == true } == true)
                #expect(try await client.call(.get, "/v1/admin/api-keys", apiKey: admin).text.contains("billing-team-reader"))

                var entries: [String] = []
                try await fleet.eventually("the quarantine is in the log") {
                    let size = try Checkpoint(parsing: try await client.call(.get, "/v1/log/checkpoint").text.components(separatedBy: "\n\n")[0] + "\n").size
                    entries = try await client.call(.get, "/v1/log/entries?start=0&end=\(size)").json["entries"]?.arrayValue.compactMap { $0["entry"]?.stringValue } ?? []
                    return entries.contains { $0.contains("\"kind\":\"device.quarantined\"") }
                }
                let log = entries.joined(separator: "\n")
                for secret in ["billing-team-reader", "plant-7-broker", "\"scope\"", "127.0.0.1", "\"detail\"", reader, gateway, admin] {
                    #expect(!log.contains(secret), "the public log holds \(secret.prefix(24))")
                }

                expectProblem(try await client.call(.get, "/metrics"), 401, "API key")
                expectProblem(try await client.call(.get, "/metrics", apiKey: gateway), 403, "needs read-only")
                let metrics = try await client.call(.get, "/metrics", apiKey: reader)
                #expect(metrics.status == 200)
                #expect(metrics.text.contains("vouch_devices"), "\(metrics.text.prefix(300))")
            }
        }
    }

    /// Smaller findings of the review: a key revoking itself (or the last admin key) locked the
    /// operator out; an unknown device answered 422 before 404; a valid pre-1970 date was called
    /// "not RFC 3339"; an address with a NUL and junk after it was read as the address before it.
    @Test func smallerFindingsAnswerAsAnOperatorExpects() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(plantPolicyYAML).status == 201)
                let keys = try await client.call(.get, "/v1/admin/api-keys", apiKey: admin).json
                let adminID = try #require(keys.arrayValue.first { $0["scope"] == "admin" }?["id"]?.stringValue)
                expectProblem(try await client.call(.delete, "/v1/admin/api-keys/\(adminID)", apiKey: admin), 409, "cannot revoke itself")
                // With a second admin key the first can go; the second then cannot revoke itself.
                let second = try await fleet.apiKey("second-admin", scope: "admin")
                #expect(try await client.call(.delete, "/v1/admin/api-keys/\(adminID)", apiKey: second).status == 204)
                expectProblem(try await client.call(.get, "/v1/admin/api-keys", apiKey: admin), 401, "unknown or revoked")
                let listed = try await client.call(.get, "/v1/admin/api-keys", apiKey: second).json
                let secondID = try #require(listed.arrayValue.first { $0["name"] == "second-admin" }?["id"]?.stringValue)
                expectProblem(try await client.call(.delete, "/v1/admin/api-keys/\(secondID)", apiKey: second), 409, "cannot revoke itself")
                #expect(try await client.call(.get, "/v1/admin/api-keys", apiKey: second).status == 200)

                // Not found comes before what the body says about a device that does not exist.
                expectProblem(try await client.call(.patch, "/v1/admin/devices/dev-nobody", json: ["zone": "nowhere"], apiKey: second), 404, "no device with id dev-nobody")

                func authorize(_ context: JSONValue) async throws -> HTTPResult {
                    try await client.call(.post, "/v1/authorize", json: ["subject": "dev-x", "action": "publish", "resource": "t", "context": context], apiKey: second)
                }
                expectProblem(try await authorize(["time": "1969-12-31T23:59:59Z"]), 400, "is outside 1970-01-01T00:00:00Z")
                expectProblem(try await authorize(["time": "1969-12-31 23:59"]), 400, "is not an RFC 3339 date-time")
                expectProblem(try await authorize(["sourceAddress": "10.0.0.7\u{0}junk"]), 400, "is not an IPv4 or IPv6 address")
            }
        }
        #expect(IPAddress("10.0.0.7\u{0}junk") == nil)
        #expect(IPAddress("::1\u{0}") == nil)
        #expect(IPAddress("10.0.0.7")?.description == "10.0.0.7")
        #expect(RFC3339.parse("1969-12-31T23:59:59Z") == nil)
        #expect(RFC3339.refusal("0001-01-01T00:00:00Z").contains("is outside 1970"))
    }
}

extension PolicyFleet {
    /// Creates an API key with `scope`; returns its secret.
    func apiKey(_ name: String, scope: String) async throws -> String {
        let created = try await client.call(.post, "/v1/admin/api-keys", json: ["name": .string(name), "scope": .string(scope)], apiKey: admin)
        #expect(created.status == 201, "\(created.text)")
        return try #require(created.json["secret"]?.stringValue)
    }
}
