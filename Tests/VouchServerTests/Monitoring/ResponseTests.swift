import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchAPI
import VouchCore
import VouchKit

/// The plant policy with monitoring rules: forged telemetry quarantines, a replay would revoke (a
/// dry run), a low score alerts, clock trouble asks for a step-up.
let monitoredPolicyYAML = plantPolicyYAML + """

    monitoring:
      halfLife: 30m
      responses:
        - when signal == signature.forged or score < 40 then quarantine
        - {name: replay-revokes, when: signal == telemetry.replay, then: revoke, dryRun: true}
        - {name: low-score, when: score < 70, then: alert}
        - {name: clock, when: signal == clock.skew, then: step-up}
    """

extension PolicyFleet {
    /// Polls `body` until it holds (the responder works after the request that caused it answered).
    func eventually(_ what: String, _ body: () async throws -> Bool) async throws {
        for _ in 0..<100 {
            if try await body() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("never happened: \(what)")
    }

    func events(of device: String) async throws -> [JSONValue] {
        try await client.call(.get, "/v1/admin/devices/\(device)", apiKey: admin).json["history"]?.arrayValue ?? []
    }
}

@Suite("Trust scores and automated responses")
struct ResponseTests {
    @Test func forgedTelemetryIsFoundExplainedAndQuarantined() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(monitoredPolicyYAML).status == 201)
                let device = DeviceAgent()
                let (id, _) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"], device: device)
                let neighbour = DeviceAgent()
                let (otherID, _) = try await fleet.enroll(group: "sensors-2", zone: "line-3", roles: ["sensor"], device: neighbour)
                let token = try await device.accessToken(client, deviceID: id)
                let otherToken = try await neighbour.accessToken(client, deviceID: otherID)
                let now = Date()
                func envelope(_ sequence: UInt64, by key: SigningKey? = nil, for sender: DeviceAgent? = nil, id senderID: String? = nil) async throws -> String {
                    try await TelemetryEnvelope(device: (sender ?? device).did, sequence: sequence, time: now, topic: "telemetry/\(senderID ?? id)/temp",
                                                payload: Data("21.5".utf8)).signed(with: key ?? (sender ?? device).key)
                }
                let batch = [try await envelope(1), try await envelope(1), try await envelope(2, by: neighbour.key)]
                let answer = try await fleet.send(batch, token: token)
                #expect(answer.json["accepted"] == 1)
                let neighbourAnswer = try await fleet.send([try await envelope(1, for: neighbour, id: otherID)], token: otherToken)
                #expect(neighbourAnswer.json["accepted"] == 1)

                // The responder quarantines the device; the event names the rule and the signals.
                try await fleet.eventually("the device is quarantined") {
                    try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json["device"]?["state"] == "quarantined"
                }
                let events = try await fleet.events(of: id)
                let quarantined = try #require(events.first { $0["kind"] == "device.quarantined" })
                #expect(quarantined["actor"] == "monitor:responses[0]")
                #expect(quarantined["data"]?["cause"]?["trigger"] == "signature.forged")
                #expect(quarantined["data"]?["cause"]?["condition"] == "(signal == signature.forged or score < 40)")
                #expect(quarantined["data"]?["cause"]?["signals"]?.arrayValue.contains("telemetry.replay") == true)
                // The replay rule is a dry run: recorded, not done.
                try await fleet.eventually("the dry run is recorded") {
                    try await fleet.events(of: id).contains { $0["kind"] == "monitor.dry-run" && $0["data"]?["action"] == "revoke" }
                }
                #expect(try await fleet.events(of: id).contains { $0["kind"] == "monitor.alert" && $0["actor"] == "monitor:low-score" })

                // The score explains itself, to the operator and to the device; not to another device.
                let trust = try await client.call(.get, "/v1/devices/\(id)/trust", apiKey: admin)
                #expect(trust.status == 200, "\(trust.text)")
                #expect(trust.json["score"] == 0)
                let kinds = trust.json["signals"]?.arrayValue.compactMap { $0["kind"]?.stringValue }
                #expect(kinds == ["signature.forged", "telemetry.replay"])
                #expect(trust.json["signals"]?.arrayValue.first?["detail"]?.stringValue?.contains("not signed by the device's key") == true)
                // (The signals fade while the test runs: the figures are checked to the unit.)
                let explanation = trust.json["explanation"]?.stringValue ?? ""
                #expect(explanation.hasPrefix("100 − ") && explanation.contains(" signature.forged − ") && explanation.hasSuffix(" telemetry.replay = 0"), "\(explanation)")
                #expect(trust.json["responses"]?.arrayValue.compactMap(\.stringValue) == ["low-score", "replay-revokes", "responses[0]"])
                let own = try await client.call(.get, "/v1/devices/self/trust", as: token)
                #expect(own.json["score"] == 0, "\(own.text)")
                expectProblem(try await client.call(.get, "/v1/devices/\(id)/trust", as: otherToken), 403, "only its own")
                expectProblem(try await client.call(.get, "/v1/devices/\(id)/trust", headers: [.authorization: "Bearer vk_nope"]), 401, "unknown or revoked")
                expectProblem(try await client.call(.get, "/v1/devices/dev_nobody/trust", apiKey: admin), 404, "no device")

                // The neighbour keeps working, fully trusted.
                #expect(try await client.call(.get, "/v1/devices/\(otherID)/trust", apiKey: admin).json["score"] == 100)
                #expect(try await fleet.send([try await envelope(2, for: neighbour, id: otherID)], token: otherToken).json["accepted"] == 1)

                // A quarantined device gets short-lived tokens; its telemetry is outside the quarantine allow-list.
                #expect(try await client.vouch().authenticated(deviceId: id, agent: device).token.expires_in == 120)
                #expect(try await fleet.send([try await envelope(3)], token: token).json["accepted"] == 0)

                // An operator releases it: what was held against it is cleared.
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/release", apiKey: admin).status == 200)
                let released = try await client.call(.get, "/v1/devices/\(id)/trust", apiKey: admin).json
                #expect(released["score"] == 100)
                #expect(released["history"]?.arrayValue.last?["cause"]?.stringValue?.hasPrefix("released by") == true)
                #expect(try await fleet.send([try await envelope(4)], token: token).json["accepted"] == 1)
            }
        }
    }

    @Test func aDeviceOutOfServiceIsRecordedNoMoreAndKeepsItsReport() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(monitoredPolicyYAML).status == 201)
                let vouch = client.vouch(.apiKey(admin))
                var ids: [String] = []
                var agents: [DeviceAgent] = []
                for group in ["sensors", "sensors-2", "sensors-3"] {
                    let device = DeviceAgent()
                    agents.append(device)
                    let (id, _) = try await fleet.enroll(group: group, zone: "line-3", roles: ["sensor"], device: device)
                    let token = try await device.accessToken(client, deviceID: id)
                    let envelope = try await TelemetryEnvelope(device: device.did, sequence: 1, topic: "telemetry/\(id)/temp", payload: Data("21.5".utf8))
                        .signed(with: device.key)
                    #expect(try await fleet.send([envelope], token: token).json["accepted"] == 1)
                    ids.append(id)
                }
                #expect(try await vouch.metric("vouch_monitored_devices") == 3)
                // A forged proof in the first device's name counts against it while it is in service.
                func forgedProof(_ index: Int) async throws -> Int {
                    let (nonce, proof) = try await agents[index].proof(client, deviceID: ids[index], signer: SigningKey.generate(.ed25519))
                    return try await client.call(
                        .post, "/v1/auth/token", json: try JSONValue(encoding: TokenRequest(nonce: nonce, proof: proof)),
                        headers: try agents[index].dpop(.post, "/v1/auth/token")).status
                }
                func authFailures(_ id: String) async throws -> JSONValue? {
                    try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json["activity"]?["metrics"]?["auth_failures"]?["1h"]
                }
                #expect([401, 403].contains(try await forgedProof(0)))
                #expect(try await authFailures(ids[0]) == 1)

                // Revoked or decommissioned: nothing more is recorded; the record and its report stay readable.
                _ = try await vouch.act(.revoke, on: ids[0], reason: "key-compromise")
                _ = try await vouch.act(.decommission, on: ids[1])
                for _ in 0..<3 { #expect([401, 403].contains(try await forgedProof(0))) }
                #expect(try await authFailures(ids[0]) == 1)
                let detail = try await client.call(.get, "/v1/admin/devices/\(ids[0])", apiKey: admin).json
                #expect(detail["activity"]?["metrics"]?["messages"] != nil, "\(detail["activity"] ?? .null)")
                #expect(try await vouch.trust(of: ids[0]).explanation.hasPrefix("100"))
                #expect(try await vouch.metric("vouch_monitored_devices") == 3)
                #expect(try await vouch.metric("vouch_monitored_devices_evicted_total") == 0)
                #expect(try await vouch.trust(of: ids[2]).score == 100)
            }
        }
    }

    @Test func aStepUpNeedsAFreshKnownGoodMeasurement() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(monitoredPolicyYAML).status == 201)
                let good = try FirmwareMeasurement(image: Data("image 3.0".utf8), version: "3.0")
                #expect(try await client.vouch(.apiKey(admin)).registerFirmware(FirmwareRegistration(model: "t1000", version: "3.0", sha256: good.sha256)).status == .good)
                let device = DeviceAgent()
                let (id, _) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"], device: device)
                let token = try await device.accessToken(client, deviceID: id)
                // Telemetry from a clock an hour behind: the rule asks for a step-up.
                let stale = try await TelemetryEnvelope(device: device.did, sequence: 1, time: Date().addingTimeInterval(-3600), topic: "telemetry/\(id)/t",
                                                        payload: Data()).signed(with: device.key)
                #expect(try await fleet.send([stale], token: token).json["results"]?.arrayValue.first?["reason"] == "clock")
                try await fleet.eventually("the step-up is asked") {
                    try await fleet.events(of: id).contains { $0["kind"] == "monitor.step-up" }
                }
                // The token it already holds no longer sends telemetry; it still reads its own record and trust.
                let fresh = try await TelemetryEnvelope(device: device.did, sequence: 2, time: Date(), topic: "telemetry/\(id)/t", payload: Data())
                    .signed(with: device.key)
                let blocked = try await fleet.send([fresh], token: token)
                expectProblem(blocked, 403, "asked to step up")
                #expect(blocked.json["stepUp"] == "firmware-attestation")
                #expect(try await client.call(.get, "/v1/devices/self/trust", as: token).status == 200)

                /// A token request; the measurement answers its nonce unless `answering` names another ("" for none).
                func tokenRequest(measurement: FirmwareMeasurement?, sequence: UInt64, answering other: String? = nil) async throws -> HTTPResult {
                    let (nonce, proof) = try await device.proof(client, deviceID: id)
                    var body: [String: JSONValue] = ["nonce": .string(nonce), "proof": .string(proof)]
                    if let measurement {
                        let sent = other == "" ? measurement : try measurement.answering(other ?? nonce)
                        body["measurement"] = .string(try await sent.envelope(device: device.did, sequence: sequence).signed(with: device.key))
                    }
                    return try await client.call(.post, "/v1/auth/token", json: .object(body), headers: try device.dpop(.post, "/v1/auth/token"))
                }
                let refused = try await tokenRequest(measurement: nil, sequence: 0)
                expectProblem(refused, 403, "asked to step up")
                #expect(refused.json["stepUp"] == "firmware-attestation")
                let homebrew = try FirmwareMeasurement(image: Data("homebrew".utf8), version: "9.9")
                expectProblem(try await tokenRequest(measurement: homebrew, sequence: 2), 403, "the measurement sent is unknown")
                // A good measurement made for no question, or for another nonce, is refused: it could be a replay.
                expectProblem(try await tokenRequest(measurement: good, sequence: 3, answering: ""), 422, "must answer this request's nonce")
                let (otherNonce, _) = try await device.proof(client, deviceID: id)
                expectProblem(try await tokenRequest(measurement: good, sequence: 4, answering: otherNonce), 422, "must answer this request's nonce")
                let stepped = try await tokenRequest(measurement: good, sequence: 5)
                #expect(stepped.status == 200, "\(stepped.text)")
                #expect(try await fleet.events(of: id).contains { $0["kind"] == "device.stepped-up" })
                // Once stepped up, tokens are plain again, and the old token sends again.
                #expect(try await tokenRequest(measurement: nil, sequence: 0).status == 200)
                #expect(try await fleet.send([fresh], token: token).json["accepted"] == 1)

                // Refused proofs in the device's name are counted, and never lower its trust: anyone can send them.
                let before = try await client.call(.get, "/v1/devices/\(id)/trust", apiKey: admin).json["score"]
                for _ in 0..<20 {
                    let (nonce, _) = try await device.proof(client, deviceID: id)
                    let forgedProof = try await DeviceProof(nonce: nonce, deviceId: id, purpose: .authenticate).sign(with: SigningKey.generate(.ed25519))
                    _ = try await client.call(.post, "/v1/auth/token", json: try JSONValue(encoding: TokenRequest(nonce: nonce, proof: forgedProof)), headers: try device.dpop(.post, "/v1/auth/token"))
                }
                #expect(try await client.call(.get, "/v1/devices/\(id)/trust", apiKey: admin).json["score"] == before)
                // Refusals for a step-up are not counted as failed authentications; the forged proofs are.
                let activity = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json["activity"]?["metrics"]
                #expect(activity?["auth_failures"]?["5m"] == 20)
            }
        }
    }
}
