import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchAPI
import VouchKit

extension PolicyFleet {
    /// Posts a batch of envelopes as the device holding `token`.
    func send(_ envelopes: [String], token: DeviceToken) async throws -> HTTPResult {
        try await client.call(.post, "/v1/telemetry", json: ["envelopes": .array(envelopes.map(JSONValue.string))], as: token)
    }
}

@Suite("Signed telemetry and firmware attestation")
struct TelemetryIngestTests {
    @Test func eachEnvelopeIsCheckedAndAnsweredOneByOne() async throws {
        try await withDataDirectory { dir in
            // On a real socket, so that the source address is the client's.
            try await withServer(dataDirectory: dir, setup: .live) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(plantPolicyYAML).status == 201)
                let device = DeviceAgent()
                let (id, _) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"], device: device)
                let other = DeviceAgent()
                let (otherID, _) = try await fleet.enroll(group: "sensors-2", zone: "line-3", roles: ["sensor"], device: other)
                let token = try await device.accessToken(client, deviceID: id)
                let now = Date()
                func envelope(_ sequence: UInt64, topic: String? = nil, at time: Date = now, by key: SigningKey? = nil, as did: DID? = nil) async throws -> String {
                    try await TelemetryEnvelope(device: did ?? device.did, sequence: sequence, time: time, topic: topic ?? "telemetry/\(id)/temp",
                                                payload: Data("21.5".utf8)).signed(with: key ?? device.key)
                }
                let batch = [
                    try await envelope(1),
                    try await envelope(2),
                    try await envelope(2),                                          // replayed
                    try await envelope(3, by: other.key),                           // signed by another key
                    try await envelope(4, by: other.key, as: other.did),            // in another device's name
                    try await envelope(5, at: now.addingTimeInterval(-900)),        // outside the clock window
                    try await envelope(6, topic: "telemetry/\(otherID)/temp"),     // not its topic
                    try await envelope(7, topic: "telemetry/\(id)/debug"),         // explicitly denied
                    "not-a-jws",
                    try await envelope(8),
                ]
                let answer = try await fleet.send(batch, token: token)
                #expect(answer.status == 200, "\(answer.text)")
                #expect(answer.json["accepted"] == 3)
                #expect(answer.json["rejected"] == 7)
                let reasons = (answer.json["results"]?.arrayValue ?? []).map { $0["reason"]?.stringValue ?? $0["status"]?.stringValue ?? "" }
                #expect(reasons == ["accepted", "accepted", "replay", "forged", "forged", "clock", "policy", "policy", "format", "accepted"])

                // What was accepted and refused shows in the device's activity.
                let detail = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json
                let metrics = detail["activity"]?["metrics"]
                #expect(metrics?["messages"]?.arrayValue.dropFirst().first == 3)
                #expect(metrics?["bytes"]?.arrayValue.dropFirst().first == 12)
                #expect(metrics?["message_size"]?.arrayValue.dropFirst().first == 4)
                #expect(detail["activity"]?["distinctSourceAddresses"] == 1)
                #expect(metrics?["replays"]?.arrayValue.dropFirst().first == 1)
                #expect(metrics?["signature_failures"]?.arrayValue.dropFirst().first == 2)
                #expect(metrics?["policy_denials"]?.arrayValue.dropFirst().first == 2)
                #expect(metrics?["clock_skew"]?.arrayValue.dropFirst().first == 1)
                #expect(detail["activity"]?["sourceAddresses"]?.arrayValue.compactMap(\.stringValue) == ["127.0.0.1"])

                // Only the device itself can send; bodies are checked; payloads are not kept by default.
                expectProblem(try await client.call(.post, "/v1/telemetry", json: ["envelopes": ["x"]]), 401, "authenticate as the device")
                expectProblem(try await fleet.send([], token: token), 400, "at least one")
                expectProblem(try await client.call(.post, "/v1/telemetry", body: Array("[1]".utf8), as: token), 400, "envelopes")
                let kept = try await client.call(.get, "/v1/admin/devices/\(id)/telemetry", apiKey: admin).json
                #expect(kept["keep"] == 0)
                #expect(kept["messages"]?.arrayValue.isEmpty == true)

                // A suspended device's token stops working at once.
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/suspend", apiKey: admin).status == 200)
                expectProblem(try await fleet.send([try await envelope(9)], token: token), 403, "suspended")
            }
        }
    }

    @Test func firmwareIsJudgedAgainstTheRegistry() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                let good = try FirmwareMeasurement(image: Data("image 2.1".utf8), version: "2.1")
                let bad = try FirmwareMeasurement(image: Data("image 2.0".utf8), version: "2.0")
                let homebrew = try FirmwareMeasurement(image: Data("homebrew".utf8), version: "9.9")
                for measurement in [good, bad] {
                    let registered = try await client.call(.post, "/v1/admin/firmware", json: [
                        "model": "t1000", "version": .string(measurement.version), "sha256": .string(measurement.sha256),
                    ], apiKey: admin)
                    #expect(registered.status == 201, "\(registered.text)")
                }
                expectProblem(try await client.call(.post, "/v1/admin/firmware", json: ["model": "t1000", "version": "2.1", "sha256": .string(good.sha256)], apiKey: admin), 409, "already registered")
                expectProblem(try await client.call(.post, "/v1/admin/firmware", json: ["model": "t1000", "version": "2.1", "sha256": "abc"], apiKey: admin), 422, "64 hex digits")
                #expect(try await client.call(.post, "/v1/admin/firmware/\(bad.sha256)/revoke", apiKey: admin).status == 200)

                // Enrollment with a measurement: the answer says what the authority made of it.
                let device = DeviceAgent()
                let token = try #require(try await client.createGroup("strict", apiKey: admin, extra: ["unlimitedTokenUses": true, "requireKnownFirmware": true]))
                let enrollmentNonce = try await client.nonce()
                var body = try await device.enrollmentBody(nonce: enrollmentNonce, group: "strict", token: token, attributes: ["model": "t1000"])
                let measured = try await good.answering(enrollmentNonce).envelope(device: device.did, sequence: 1).signed(with: device.key)
                if case .object(var members) = body {
                    members["measurement"] = .string(measured)
                    body = .object(members)
                }
                let enrolled = try await client.call(.post, "/v1/enrollments", json: body)
                #expect(enrolled.status == 201, "\(enrolled.text)")
                #expect(enrolled.json["firmware"]?["status"] == "good")
                let id = try #require(enrolled.json["deviceId"]?.stringValue)
                let access = try await device.accessToken(client, deviceID: id)

                // At boot it reports a revoked image, then one nobody registered: both are events.
                let revoked = try await client.call(.post, "/v1/devices/self/attestation", json: [
                    "measurement": .string(try await bad.envelope(device: device.did, sequence: 2).signed(with: device.key)),
                ], as: access)
                #expect(revoked.json["status"] == "revoked", "\(revoked.text)")
                // The group renews only a device that shows known-good firmware with the renewal.
                expectProblem(try await client.call(.post, "/v1/devices/self/renew", as: access), 409, "known-good firmware")
                let unknown = try await client.call(.post, "/v1/devices/self/attestation", json: [
                    "measurement": .string(try await homebrew.envelope(device: device.did, sequence: 3).signed(with: device.key)),
                ], as: access)
                #expect(unknown.json["status"] == "unknown")
                // A renewal that reports the good image, answering a fresh nonce, goes through; the
                // nonce is spent, so the same renewal cannot be sent again.
                expectProblem(try await client.call(.post, "/v1/devices/self/renew", json: [
                    "measurement": .string(try await good.envelope(device: device.did, sequence: 4).signed(with: device.key)),
                ], as: access), 400, "answers a nonce")
                let (renewalNonce, _) = try await device.proof(client, deviceID: id)
                let renewal: JSONValue = [
                    "nonce": .string(renewalNonce),
                    "measurement": .string(try await good.answering(renewalNonce).envelope(device: device.did, sequence: 5).signed(with: device.key)),
                ]
                let renewed = try await client.call(.post, "/v1/devices/self/renew", json: renewal, as: access)
                #expect(renewed.status == 201, "\(renewed.text)")
                #expect(renewed.json["firmware"]?["status"] == "good")
                expectProblem(try await client.call(.post, "/v1/devices/self/renew", json: renewal, as: access), 401, "already used")

                // Another key's measurement, or a stale one, is refused.
                let stranger = SigningKey.generate(.ed25519)
                expectProblem(try await client.call(.post, "/v1/devices/self/attestation", json: [
                    "measurement": .string(try await good.envelope(device: device.did, sequence: 5).signed(with: stranger)),
                ], as: access), 422, "not by the key")
                expectProblem(try await client.call(.post, "/v1/devices/self/attestation", json: [
                    "measurement": .string(try await good.envelope(device: device.did, sequence: 6, time: Date().addingTimeInterval(-3600)).signed(with: device.key)),
                ], as: access), 422, "outside the 300 s window")

                let detail = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json
                #expect(detail["firmware"]?["status"] == "good")
                let kinds = (detail["history"]?.arrayValue ?? []).filter { $0["kind"] == "firmware.reported" }.compactMap { $0["data"]?["status"]?.stringValue }
                #expect(kinds == ["good", "revoked", "unknown", "good"])
                #expect(detail["activity"]?["metrics"]?["firmware_drift"]?.arrayValue.dropFirst().first == 2)
                let registry = try await client.call(.get, "/v1/admin/firmware", apiKey: admin).json.arrayValue
                #expect(Set(registry.compactMap { $0["status"]?.stringValue }) == ["good", "revoked"])
            }
        }
    }
}
