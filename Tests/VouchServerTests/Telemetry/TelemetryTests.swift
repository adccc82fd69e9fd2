import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchAPI
import VouchCore
import VouchKit

extension PolicyFleet {
    /// Posts a batch of envelopes as the device holding `token`.
    func send(_ envelopes: [String], token: DeviceToken) async throws -> HTTPResult {
        try await client.call(.post, "/v1/telemetry", json: try JSONValue(encoding: TelemetryUpload(envelopes: envelopes)), as: token)
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
                #expect(metrics?["messages"]?["5m"] == 3)
                #expect(metrics?["bytes"]?["5m"] == 12)
                #expect(metrics?["message_size"]?["5m"] == 4)
                #expect(detail["activity"]?["distinctSourceAddresses"] == 1)
                #expect(metrics?["replays"]?["5m"] == 1)
                #expect(metrics?["signature_failures"]?["5m"] == 2)
                #expect(metrics?["policy_denials"]?["5m"] == 2)
                #expect(metrics?["clock_skew"]?["5m"] == 1)
                #expect(detail["activity"]?["sourceAddresses"]?.arrayValue.compactMap(\.stringValue) == ["127.0.0.1"])

                // Only the device itself can send; bodies are checked; payloads are not kept by default.
                await expectRefusal(401, "authenticate as the device") { try await client.vouch().sendTelemetry(["x"]) }
                expectProblem(try await fleet.send([], token: token), 400, "at least one")
                expectProblem(try await client.call(.post, "/v1/telemetry", body: Array("[1]".utf8), as: token), 400, "envelopes")
                let kept = try await client.call(.get, "/v1/admin/devices/\(id)/telemetry", apiKey: admin).json
                #expect(kept["keep"] == 0)
                #expect(kept["messages"]?.arrayValue.isEmpty == true)

                // A suspended device's token stops working at once.
                #expect(try await client.vouch(.apiKey(admin)).act(.suspend, on: id).device.state == "suspended")
                expectProblem(try await fleet.send([try await envelope(9)], token: token), 403, "suspended")
            }
        }
    }

    @Test func firmwareIsJudgedAgainstTheRegistry() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let good = try FirmwareMeasurement(image: Data("image 2.1".utf8), version: "2.1")
                let bad = try FirmwareMeasurement(image: Data("image 2.0".utf8), version: "2.0")
                let homebrew = try FirmwareMeasurement(image: Data("homebrew".utf8), version: "9.9")
                let operatorClient = client.vouch(.apiKey(admin))
                for measurement in [good, bad] {
                    let registered = try await operatorClient.registerFirmware(
                        FirmwareRegistration(model: "t1000", version: measurement.version, sha256: measurement.sha256))
                    #expect(registered.sha256 == measurement.sha256 && registered.status == .good)
                }
                await expectRefusal(409, "already registered") {
                    try await operatorClient.registerFirmware(FirmwareRegistration(model: "t1000", version: "2.1", sha256: good.sha256))
                }
                await expectRefusal(422, "64 hex digits") {
                    try await operatorClient.registerFirmware(FirmwareRegistration(model: "t1000", version: "2.1", sha256: "abc"))
                }
                #expect(try await operatorClient.revokeFirmware(bad.sha256).firmware.status == .revoked)

                // Enrollment with a measurement: the answer says what the authority made of it.
                let device = DeviceAgent()
                let group = try await operatorClient.createGroup(GroupRequest(name: "strict", unlimitedTokenUses: true, requireKnownFirmware: true))
                let enrolled = try await device.enroll(
                    client.vouch(), group: "strict", claimToken: group.claimToken, attributes: ["model": "t1000"], firmware: good)
                #expect(enrolled.state == "active")
                #expect(enrolled.firmware?.status == .good)
                let id = enrolled.deviceId
                let (deviceClient, _) = try await client.vouch().authenticated(deviceId: id, agent: device)

                // At boot it reports a revoked image, then one nobody registered: both are events.
                let revoked = try await deviceClient.attest(MeasurementBody(measurement: try await bad.envelope(device: device.did, sequence: 2).signed(with: device.key)))
                #expect(revoked.status == .revoked)
                // The group renews only a device that shows known-good firmware with the renewal.
                await expectRefusal(409, "known-good firmware") { try await deviceClient.renew() }
                let unknown = try await deviceClient.attest(MeasurementBody(measurement: try await homebrew.envelope(device: device.did, sequence: 3).signed(with: device.key)))
                #expect(unknown.status == .unknown)
                // A renewal that reports the good image, answering a fresh nonce, goes through; the
                // nonce is spent, so the same renewal cannot be sent again.
                await expectRefusal(400, "answers a nonce") {
                    try await deviceClient.renew(RenewalRequest(measurement: try await good.envelope(device: device.did, sequence: 4).signed(with: device.key)))
                }
                let renewalNonce = try await deviceClient.challenge().nonce
                let renewal = RenewalRequest(
                    nonce: renewalNonce, measurement: try await good.answering(renewalNonce).envelope(device: device.did, sequence: 5).signed(with: device.key))
                let renewed = try await deviceClient.renew(renewal)
                #expect(renewed.firmware?.status == .good && renewed.certificate != nil)
                await expectRefusal(401, "already used") { try await deviceClient.renew(renewal) }

                // Another key's measurement, or a stale one, is refused.
                let stranger = SigningKey.generate(.ed25519)
                await expectRefusal(422, "not by the key") {
                    try await deviceClient.attest(MeasurementBody(measurement: try await good.envelope(device: device.did, sequence: 5).signed(with: stranger)))
                }
                await expectRefusal(422, "outside the 300 s window") {
                    try await deviceClient.attest(
                        MeasurementBody(
                            measurement: try await good.envelope(device: device.did, sequence: 6, time: Date().addingTimeInterval(-3600)).signed(with: device.key)))
                }

                let detail = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json
                #expect(detail["firmware"]?["status"] == "good")
                let kinds = (detail["history"]?.arrayValue ?? []).filter { $0["kind"] == "firmware.reported" }.compactMap { $0["data"]?["status"]?.stringValue }
                #expect(kinds == ["good", "revoked", "unknown", "good"])
                #expect(detail["activity"]?["metrics"]?["firmware_drift"]?["5m"] == 2)
                let registry = try await client.call(.get, "/v1/admin/firmware", apiKey: admin).json.arrayValue
                #expect(Set(registry.compactMap { $0["status"]?.stringValue }) == ["good", "revoked"])
            }
        }
    }
}
