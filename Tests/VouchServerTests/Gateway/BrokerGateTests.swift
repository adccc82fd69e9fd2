import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import SwiftASN1
import Synchronization
import Testing
import VouchAPI
import VouchCore
import VouchGateway
import VouchKit
import VouchTesting
import X509

/// The policy the broker tests upload: topics per device, a console that reads everything, a
/// statement that holds only from one network, and a quarantine allow-list.
let mqttPolicyYAML = """
    zones:
      line-3: {}
      plant-ops: {}
    roles:
      sensor:
        allow:
          - publish:telemetry/${device.id}/#
          - subscribe:commands/${device.id}/#
          - receive:commands/${device.id}/#
        deny:
          - publish:telemetry/${device.id}/debug
      console:
        allow: ["subscribe:telemetry/#", "receive:telemetry/#", "publish:commands/#"]
      maintenance:
        statements:
          - effect: allow
            actions: [publish]
            resources: ["config/${device.zone}/#"]
            conditions: {sourceAddresses: [10.0.0.0/8]}
    quarantine:
      allow: ["publish:quarantine/${device.id}"]
    signed: ["telemetry/+/signed/#"]
    """

/// The same, with a response: a forged envelope quarantines the device.
let mqttPolicyWithResponsesYAML = mqttPolicyYAML + """

    monitoring:
      responses:
        - when signal == signature.forged then quarantine
    """

/// The DER of the first PEM block of `pem`.
func derOfPEM(_ pem: String) throws -> [UInt8] {
    let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
    return Array(try #require(Data(base64Encoded: body)))
}

/// A gate following a live test server with a gateway key, loaded.
struct FollowedGate {
    let gate: BrokerGate
    let sync: GatewaySync
    let lines = LogLines()

    final class LogLines: Sendable {
        let all = Mutex<[String]>([])
    }

    init(
        server: String, admin: String, client: any TestClientProtocol, settings: BrokerGate.Settings = BrokerGate.Settings(), pageSize: Int = 1000
    ) async throws {
        let key = try await client.vouch(.apiKey(admin)).createAPIKey(CreateAPIKey(name: "broker-\(UUID().uuidString.prefix(8))", scope: .gateway))
        gate = BrokerGate(settings: settings)
        let lines = self.lines
        sync = try GatewaySync(gate: gate, server: server, apiKey: key.secret, pageSize: pageSize) { line in lines.all.withLock { $0.append(line) } }
        sync.start()
        try await waitFor("the gate loads the directory") { gate.sequence != nil }
    }
}

/// Polls `condition` every 10 ms for up to `seconds`; records an issue naming `what` if it never holds.
func waitFor(_ what: String, seconds: Int = 20, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("\(what): not within \(seconds) s")
    throw CancellationError()
}

@Suite("Broker gate (in-process decisions for brokers)")
struct BrokerGateTests {
    @Test func theGateDecidesAsPostAuthorizeDoesForEveryCaseOfTheTable() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live, heartbeat: .milliseconds(200)) { client, admin, _ in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(mqttPolicyYAML).status == 201)
                let (sensor, sensorAnswer) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor", "maintenance"])
                let (console, consoleAnswer) = try await fleet.enroll(group: "consoles", zone: "plant-ops", roles: ["console"])
                let (other, otherAnswer) = try await fleet.enroll(group: "others", zone: "line-3", roles: ["sensor"])
                #expect(try await client.call(.post, "/v1/admin/devices/\(other)/quarantine", apiKey: admin).status == 200)
                // Loaded two devices a page: the walk reaches every one.
                let followed = try await FollowedGate(server: "http://127.0.0.1:\(try #require(client.port))", admin: admin, client: client, pageSize: 2)
                let gate = followed.gate
                #expect(followed.lines.all.withLock { $0 }.contains { $0.hasPrefix("loaded 3 devices and policy version 1") }, "\(followed.lines.all.withLock { $0 })")
                // The quarantine reached the gate before the answer to this.
                try await waitFor("the gate sees the quarantine") { gate.sequence ?? 0 >= (try await client.call(.get, "/v1/events?limit=1", apiKey: admin).json["last"]?.numberValue).map(Int.init) ?? 0 }

                var connection: UInt = 100
                var connections: [String: UInt] = [:]
                for (id, answer) in [(sensor, sensorAnswer), (console, consoleAnswer), (other, otherAnswer)] {
                    connection += 1
                    let der = try derOfPEM(try #require(answer["certificate"]?.stringValue))
                    #expect(gate.admit(connection: connection, clientID: id, certificateDER: der) == .admitted(device: id))
                    connections[id] = connection
                }

                let cases: [(device: String, access: BrokerGate.Access, topic: String, address: String?)] = [
                    (sensor, .publish, "telemetry/\(sensor)/temperature", nil),
                    (sensor, .publish, "telemetry/\(sensor)", nil),
                    (sensor, .publish, "telemetry/\(sensor)/debug", nil),
                    (sensor, .publish, "telemetry/\(console)/temperature", nil),
                    (sensor, .subscribe, "commands/\(sensor)/#", nil),
                    (sensor, .subscribe, "commands/#", nil),
                    (sensor, .subscribe, "commands/+/reboot", nil),
                    (sensor, .receive, "commands/\(sensor)/reboot", nil),
                    (sensor, .receive, "commands/\(console)/reboot", nil),
                    (sensor, .publish, "config/line-3/limits", "10.1.2.3"),
                    (sensor, .publish, "config/line-3/limits", "192.168.1.7"),
                    (sensor, .publish, "config/plant-ops/limits", "10.1.2.3"),
                    (console, .subscribe, "telemetry/#", nil),
                    (console, .subscribe, "#", nil),
                    (console, .receive, "telemetry/\(sensor)/temperature", nil),
                    (console, .publish, "commands/\(sensor)/reboot", nil),
                    (console, .publish, "telemetry/\(console)/x", nil),
                    (other, .publish, "telemetry/\(other)/temperature", nil),
                    (other, .publish, "quarantine/\(other)", nil),
                    (other, .publish, "quarantine/\(sensor)", nil),
                ]
                var allowed = 0
                for item in cases {
                    let context: [String: JSONValue] = item.address.map { ["sourceAddress": .string($0)] } ?? [:]
                    let server = try await fleet.allowed(item.device, item.access.action, item.topic, context: context)
                    let inProcess = gate.check(try #require(connections[item.device]), item.access, topic: item.topic, sourceAddress: item.address)
                    #expect(inProcess == server, "\(item.access.action) \(item.topic) by \(item.device) from \(item.address ?? "-"): gate \(inProcess), server \(server)")
                    // Asked twice: the cached decision is the same.
                    #expect(gate.check(try #require(connections[item.device]), item.access, topic: item.topic, sourceAddress: item.address) == server)
                    if server { allowed += 1 }
                }
                // A topic the server refuses to decide on (a ".." segment) is denied.
                let dotted = "telemetry/\(sensor)/../\(console)"
                expectProblem(try await fleet.authorize(sensor, "publish", dotted), 400, "segment")
                #expect(!gate.check(try #require(connections[sensor]), .publish, topic: dotted))
                // The table has both answers, and the ones that show the rules work.
                #expect(allowed == 9, "allowed: \(allowed) of \(cases.count)")
                #expect(gate.counts.cacheHits > 0)
                followed.sync.stop()
            }
        }
    }

    @Test func aConnectionIsAdmittedOnlyWithAGoodCertificateOfADeviceThatMayActUnderItsOwnID() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live, heartbeat: .milliseconds(200)) { client, admin, _ in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(mqttPolicyYAML).status == 201)
                let (first, firstAnswer) = try await fleet.enroll(group: "first", zone: "line-3", roles: ["sensor"])
                let (second, _) = try await fleet.enroll(group: "second", zone: "line-3", roles: ["sensor"])
                let unloaded = BrokerGate()
                let der = try derOfPEM(try #require(firstAnswer["certificate"]?.stringValue))
                #expect(unloaded.admit(connection: 1, clientID: first, certificateDER: der) == .refused(
                    "the Vouch directory is not loaded yet; connections are refused until it is"))

                let followed = try await FollowedGate(
                    server: "http://127.0.0.1:\(try #require(client.port))", admin: admin, client: client,
                    settings: BrokerGate.Settings(maxStaleness: .seconds(60)))
                let gate = followed.gate
                #expect(gate.admit(connection: 1, clientID: first, certificateDER: der) == .admitted(device: first))
                #expect(gate.admit(connection: 2, clientID: "\(first)-logger", certificateDER: der) == .admitted(device: first))
                // Another device's id as client id would take over its session: refused.
                guard case .refused(let takeover) = gate.admit(connection: 3, clientID: second, certificateDER: der) else {
                    Issue.record("a device connected under another's client id")
                    return
                }
                #expect(takeover.contains("must connect with its id as client id"))
                guard case .refused(let none) = gate.admit(connection: 4, clientID: first, certificateDER: nil) else { Issue.record("admitted without a certificate"); return }
                #expect(none.hasPrefix("no client certificate"))
                // A certificate of another CA naming the device: its serial is no certificate of the device.
                let stranger = try derOfPEM(try FactoryCA().issue(to: SigningKey.generate(.p256), serial: first))
                guard case .refused(let unknownSerial) = gate.admit(connection: 5, clientID: first, certificateDER: stranger) else {
                    Issue.record("admitted a certificate Vouch did not issue")
                    return
                }
                #expect(unknownSerial.contains("is revoked, on hold, expired or superseded"))
                // The device's own serial (serials are public) on a certificate of another key: refused.
                let genuine = try Certificate(derEncoded: der)
                let otherKey = P256.Signing.PrivateKey()
                let name = try DistinguishedName { CommonName(first) }
                let minted = try Certificate(
                    version: .v3, serialNumber: genuine.serialNumber, publicKey: .init(otherKey.publicKey), notValidBefore: Date().addingTimeInterval(-60),
                    notValidAfter: Date().addingTimeInterval(3600), issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                    extensions: Certificate.Extensions(), issuerPrivateKey: .init(otherKey))
                var serializer = DER.Serializer()
                try serializer.serialize(minted)
                guard case .refused(let notTheKey) = gate.admit(connection: 8, clientID: first, certificateDER: serializer.serializedBytes) else {
                    Issue.record("admitted a certificate with the device's serial and another key")
                    return
                }
                #expect(notTheKey.contains("does not certify the key of device \(first)"))
                #expect(gate.admit(connection: 6, clientID: first, certificateDER: [0x30, 0x03, 0x02, 0x01]) == .refused(
                    "the client certificate does not parse as X.509 with a common name"))
                // Not heard from for longer than allowed: new connections are refused, checks go on.
                #expect(gate.check(1, .publish, topic: "telemetry/\(first)/t"))
                guard case .refused(let stale) = gate.admit(connection: 7, clientID: first, certificateDER: der, now: .now + .seconds(120)) else {
                    Issue.record("admitted with a stale directory")
                    return
                }
                #expect(stale.contains("has not been heard from"))
                // An unknown connection is denied everything.
                #expect(!gate.check(99, .publish, topic: "telemetry/\(first)/t"))
                gate.disconnected(1)
                #expect(!gate.check(1, .publish, topic: "telemetry/\(first)/t"))
                followed.sync.stop()
            }
        }
    }

    @Test func revocationSuspensionQuarantineAndPolicyReachTheGateAndDisconnectWhoLostRights() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live, heartbeat: .milliseconds(200)) { client, admin, _ in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(mqttPolicyYAML).status == 201)
                let (device, answer) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"])
                let der = try derOfPEM(try #require(answer["certificate"]?.stringValue))
                let followed = try await FollowedGate(server: "http://127.0.0.1:\(try #require(client.port))", admin: admin, client: client)
                let gate = followed.gate
                let topic = "telemetry/\(device)/t"
                #expect(gate.admit(connection: 1, clientID: device, certificateDER: der) == .admitted(device: device))
                #expect(gate.check(1, .publish, topic: topic))

                // A policy upload changes decisions at once: cached ones included.
                #expect(try await fleet.upload(mqttPolicyYAML.replacingOccurrences(of: "publish:telemetry/${device.id}/#", with: "publish:data/${device.id}/#")).status == 201)
                try await waitFor("the new policy reaches the gate") { !gate.check(1, .publish, topic: topic) }
                #expect(gate.check(1, .publish, topic: "data/\(device)/t"))
                #expect(gate.takeDisconnects().isEmpty, "a policy change disconnects nobody")

                // Suspension: the connection is to be closed, the device refused; reinstated, it comes back.
                #expect(try await client.call(.post, "/v1/admin/devices/\(device)/suspend", apiKey: admin).status == 200)
                var closed: [String] = []
                try await waitFor("the suspension disconnects the device") {
                    closed += gate.takeDisconnects()
                    return !closed.isEmpty
                }
                #expect(closed == [device])
                #expect(!gate.check(1, .publish, topic: "data/\(device)/t"))
                guard case .refused(let suspended) = gate.admit(connection: 2, clientID: device, certificateDER: der) else { Issue.record("a suspended device was admitted"); return }
                #expect(suspended.contains("is suspended"))
                #expect(try await client.call(.post, "/v1/admin/devices/\(device)/reinstate", apiKey: admin).status == 200)
                try await waitFor("the reinstatement reaches the gate") { gate.admit(connection: 3, clientID: device, certificateDER: der) == .admitted(device: device) }
                #expect(gate.check(3, .publish, topic: "data/\(device)/t"))

                // Quarantine: disconnected, then admitted to the allow-list only.
                #expect(try await client.call(.post, "/v1/admin/devices/\(device)/quarantine", apiKey: admin).status == 200)
                closed = []
                try await waitFor("the quarantine disconnects the device") {
                    closed += gate.takeDisconnects()
                    return !closed.isEmpty
                }
                #expect(closed == [device])
                #expect(gate.admit(connection: 4, clientID: device, certificateDER: der) == .admitted(device: device))
                #expect(!gate.check(4, .publish, topic: "data/\(device)/t"))
                #expect(gate.check(4, .publish, topic: "quarantine/\(device)"))

                // Revocation: disconnected and refused for good.
                #expect(try await client.call(.post, "/v1/admin/devices/\(device)/revoke", apiKey: admin).status == 200)
                closed = []
                try await waitFor("the revocation disconnects the device") {
                    closed += gate.takeDisconnects()
                    return !closed.isEmpty
                }
                #expect(closed == [device])
                guard case .refused(let revoked) = gate.admit(connection: 5, clientID: device, certificateDER: der) else { Issue.record("a revoked device was admitted"); return }
                #expect(revoked.contains("is revoked"))
                followed.sync.stop()
            }
        }
    }

    @Test func onSignedTopicsOnlyTheDevicesOwnFreshEnvelopesPassAndWhatTheBrokerSawMovesTheTrustScore() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live, heartbeat: .milliseconds(200)) { client, admin, _ in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(mqttPolicyWithResponsesYAML).status == 201)
                let key = SigningKey.generate(.ed25519)
                let (device, answer) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"], device: DeviceAgent(key: key))
                let did = try DID(try #require(answer["did"]?.stringValue))
                let followed = try await FollowedGate(server: "http://127.0.0.1:\(try #require(client.port))", admin: admin, client: client)
                let gate = followed.gate
                #expect(gate.admit(
                    connection: 1, clientID: device, certificateDER: try derOfPEM(try #require(answer["certificate"]?.stringValue)), sourceAddress: "10.0.0.7"
                ) == .admitted(device: device))
                let topic = "telemetry/\(device)/signed/temperature"
                func send(_ text: String, on topic: String) -> BrokerGate.MessageVerdict {
                    var bytes = Array(text.utf8)
                    return bytes.withUnsafeMutableBytes { gate.message(1, topic: topic, payload: UnsafeRawBufferPointer($0)) }
                }
                let first = try await TelemetryEnvelope(device: did, sequence: 1, topic: topic, payload: Data("21.5".utf8)).signed(with: key)
                #expect(send(first, on: topic) == .passed)
                // Sent again: a replay.
                guard case .dropped(let replay) = send(first, on: topic) else { Issue.record("a replay passed"); return }
                #expect(replay.contains("is not above 1"))
                // For another topic, not a JWS, too old: dropped.
                let elsewhere = try await TelemetryEnvelope(device: did, sequence: 2, topic: topic + "/x", payload: Data("1".utf8)).signed(with: key)
                guard case .dropped(let moved) = send(elsewhere, on: topic) else { Issue.record("an envelope for another topic passed"); return }
                #expect(moved.contains("is for topic"))
                guard case .dropped(let plain) = send("21.5", on: topic) else { Issue.record("an unsigned message passed"); return }
                #expect(plain.hasPrefix("not an envelope of \(device)'s"))
                let old = try await TelemetryEnvelope(device: did, sequence: 3, time: Date().addingTimeInterval(-900), topic: topic, payload: Data("1".utf8)).signed(with: key)
                guard case .dropped(let stale) = send(old, on: topic) else { Issue.record("a stale envelope passed"); return }
                #expect(stale.contains("the window is 300 s"))
                // Unsigned topics take anything.
                #expect(send("plain", on: "telemetry/\(device)/temperature") == .passed)
                let reports = gate.takeReports()
                #expect(reports.count == 1)
                let report = try #require(reports.first)
                #expect(report.id == device && report.connects == 1 && report.sources == ["10.0.0.7"])
                #expect(report.messagesIn == 2 && report.bytesIn == first.utf8.count + 5)
                #expect(report.replayed == 1 && report.forged == 2 && report.clockSkew == 1)
                gate.restore(reports)

                // Another key's envelope in the device's name: forged, and the reports reach the
                // server's monitoring, whose response quarantines the device, which the gate disconnects.
                let forged = try await TelemetryEnvelope(device: did, sequence: 9, topic: topic, payload: Data("99".utf8)).signed(with: SigningKey.generate(.ed25519))
                guard case .dropped(let notTheKey) = send(forged, on: topic) else { Issue.record("a forged envelope passed"); return }
                #expect(notTheKey.contains("not by the key of"))
                #expect(await followed.sync.sendReports())
                let trust = try await client.call(.get, "/v1/devices/\(device)/trust", apiKey: admin)
                let kinds = Set(trust.json["signals"]?.arrayValue.compactMap { $0["kind"]?.stringValue } ?? [])
                #expect(kinds == ["signature.forged", "telemetry.replay", "clock.skew"], "\(trust.text)")
                #expect(trust.json["signals"]?.arrayValue.first?["detail"]?.stringValue == "3 envelope(s) not signed by the device's key")
                var closed: [String] = []
                try await waitFor("the quarantine disconnects the device") {
                    closed += gate.takeDisconnects()
                    return !closed.isEmpty
                }
                #expect(closed == [device])
                let state = try await client.call(.get, "/v1/admin/devices/\(device)", apiKey: admin)
                #expect(state.json["state"]?.stringValue == "quarantined" || state.json["device"]?["state"]?.stringValue == "quarantined", "\(state.text)")
                followed.sync.stop()
            }
        }
    }

    @Test func reportsComeOnlyFromGatewayKeysAndAreChecked() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                let (device, _) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"])
                let gateway = try await fleet.apiKey("broker", scope: "gateway")
                let body: JSONValue = ["devices": [["id": .string(device), "messagesIn": 3, "sources": ["192.0.2.1"]], ["id": "dev_nobody", "denials": 1]]]
                let taken = try await client.call(.post, "/v1/gateway/reports", json: body, apiKey: gateway)
                #expect(taken.status == 200, "\(taken.text)")
                #expect(taken.json["accepted"] == 1 && taken.json["unknown"] == ["dev_nobody"])
                expectProblem(try await client.call(.post, "/v1/gateway/reports", json: body, apiKey: admin), 403, "use a gateway-scoped API key")
                expectProblem(
                    try await client.call(.post, "/v1/gateway/reports", json: ["devices": [["id": .string(device), "bytesIn": 5_000_000_000]]], apiKey: gateway),
                    400, "bytesIn of \(device) is 5000000000; counts are from 0 to 4294967295")
                expectProblem(
                    try await client.call(.post, "/v1/gateway/reports", json: ["devices": [["id": .string(device), "forged": -1]]], apiKey: gateway), 400, "forged of")
                expectProblem(
                    try await client.call(.post, "/v1/gateway/reports", json: ["devices": [["id": .string(device), "sources": ["not-an-address"]]]], apiKey: gateway),
                    400, "not an IPv4 or IPv6 address")
                let many: JSONValue = ["devices": .array((0...1000).map { _ in ["id": .string(device)] })]
                expectProblem(try await client.call(.post, "/v1/gateway/reports", json: many, apiKey: gateway), 400, "at most 1000 devices")
                let huge = try await client.call(.post, "/v1/gateway/reports", json: ["devices": [["id": .string(device), "messagesIn": .number(1e19)]]], apiKey: gateway)
                #expect(huge.status == 400, "\(huge.text)")
            }
        }
    }
}
