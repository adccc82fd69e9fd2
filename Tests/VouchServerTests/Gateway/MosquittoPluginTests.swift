import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchAPI
import VouchCore
import VouchKit
import VouchTesting

/// Debian's stock Mosquitto with the Vouch plugin (Integrations/Mosquitto), real clients
/// (mosquitto_pub, mosquitto_sub) with certificates Vouch issued, and a live Vouch.
@Suite(
    "Mosquitto plugin",
    .enabled(if: Mosquitto.installed || ProcessInfo.processInfo.environment["CI"] != nil, "needs mosquitto, its clients and mosquitto-dev (CI installs them)")
)
struct MosquittoPluginTests {
    @Test func devicesActWithinTheirGrantsAndARevokedDeviceIsDisconnectedAndRefused() async throws {
        let plugin = try await Mosquitto.plugin()
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live, heartbeat: .milliseconds(500)) { client, admin, _ in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(mqttPolicyYAML).status == 201)
                let sensorKey = SigningKey.generate(.p256)
                let (sensor, sensorAnswer) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"], device: DeviceAgent(key: sensorKey))
                let consoleKey = SigningKey.generate(.ed25519)
                let (console, consoleAnswer) = try await fleet.enroll(group: "consoles", zone: "plant-ops", roles: ["console"], device: DeviceAgent(key: consoleKey))
                let gatewayKey = try await client.vouch(.apiKey(admin)).createAPIKey(CreateAPIKey(name: "mosquitto", scope: .gateway)).secret
                let broker = try await MosquittoBroker(
                    work: dir + "/mosquitto", plugin: plugin, vouch: "http://127.0.0.1:\(try #require(client.port))", gatewayKey: gatewayKey,
                    vouchChainPEM: try await client.call(.get, "/v1/pki/chain.pem").text)
                defer { broker.stop() }
                try await broker.waitForLog("loaded 2 devices and policy version 1")
                let sensorFiles = try broker.files(
                    for: sensor, certificatePEM: try #require(sensorAnswer["certificate"]?.stringValue), keyPEM: try sensorKey.pkcs8PEMRepresentation)
                let consoleFiles = try broker.files(
                    for: console, certificatePEM: try #require(consoleAnswer["certificate"]?.stringValue), keyPEM: try consoleKey.pkcs8PEMRepresentation)

                // The console reads every sensor's telemetry; the sensor publishes its own.
                let watcher = try MosquittoBroker.Subscription(broker: broker, device: consoleFiles, topic: "telemetry/#", clientID: console)
                defer { watcher.stop() }
                try await watcher.waitForOutput("received SUBACK")
                let published = try await broker.publish(sensorFiles, "telemetry/\(sensor)/temperature", "21.5")
                #expect(published.status == 0 && !published.output.contains("failed"), "\(published.output)")
                try await watcher.waitForOutput("telemetry/\(sensor)/temperature 21.5")
                // Another device's topic, and one the policy denies: refused in the PUBACK, not delivered.
                let other = try await broker.publish(sensorFiles, "telemetry/\(console)/temperature", "forged")
                #expect(other.output.contains("Publish 1 failed: Not authorized"), "\(other.output)")
                let debug = try await broker.publish(sensorFiles, "telemetry/\(sensor)/debug", "dump")
                #expect(debug.output.contains("Publish 1 failed: Not authorized"), "\(debug.output)")
                // The sensor may not read the console's commands, nor subscribe to everything.
                let snoop = try MosquittoBroker.Subscription(broker: broker, device: sensorFiles, topic: "telemetry/#", clientID: sensor + "-snoop")
                defer { snoop.stop() }
                try await snoop.waitForOutput("received SUBACK")
                #expect(snoop.output.contains("Subscribed (mid: 1): 135") && snoop.output.contains("All subscription requests were denied."), "\(snoop.output)")
                // A device under another's client id, and a certificate Vouch did not issue: refused at CONNECT.
                let takeover = try await broker.publish(sensorFiles, "telemetry/\(sensor)/t", clientID: console)
                #expect(takeover.status != 0 && takeover.output.contains("Connection error: Not authorized"), "\(takeover.output)")
                #expect(broker.log.contains("must connect with its id as client id"))
                let strangerKey = SigningKey.generate(.p256)
                let stranger = try broker.files(
                    for: sensor, certificatePEM: try FactoryCA().issue(to: strangerKey, serial: sensor), keyPEM: try strangerKey.pkcs8PEMRepresentation, name: "stranger")
                let refusedStranger = try await broker.publish(stranger, "telemetry/\(sensor)/t")
                #expect(refusedStranger.status != 0, "\(refusedStranger.output)")
                #expect(!watcher.output.contains("forged") && !watcher.output.contains("dump"))

                // Revoked while connected: the broker drops it within a second, and refuses it after.
                let connected = try MosquittoBroker.Subscription(broker: broker, device: sensorFiles, topic: "commands/\(sensor)/#", clientID: sensor)
                defer { connected.stop() }
                try await connected.waitForOutput("received SUBACK")
                #expect(connected.process.isRunning)
                #expect(try await client.call(.post, "/v1/admin/devices/\(sensor)/revoke", apiKey: admin).status == 200)
                let revokedAt = ContinuousClock.now
                try await waitFor("the revoked device's connection closes", seconds: 10) { !connected.process.isRunning }
                let took = revokedAt.duration(to: .now)
                #expect(took < .seconds(1), "disconnected \(took) after the revocation")
                let again = try await broker.publish(sensorFiles, "telemetry/\(sensor)/t")
                #expect(again.status != 0 && again.output.contains("Connection error: Not authorized"), "\(again.output)")
                #expect(broker.log.contains("device \(sensor) is revoked and may not connect"))
            }
        }
    }

    @Test func signedTopicsSuspensionQuarantineAndPolicyChangesTakeEffectAtTheBroker() async throws {
        let plugin = try await Mosquitto.plugin()
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live, heartbeat: .milliseconds(500)) { client, admin, _ in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(mqttPolicyYAML).status == 201)
                let sensorKey = SigningKey.generate(.ed25519)
                let (sensor, sensorAnswer) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"], device: DeviceAgent(key: sensorKey))
                let consoleKey = SigningKey.generate(.p256)
                let (console, consoleAnswer) = try await fleet.enroll(group: "consoles", zone: "plant-ops", roles: ["console"], device: DeviceAgent(key: consoleKey))
                let gatewayKey = try await client.vouch(.apiKey(admin)).createAPIKey(CreateAPIKey(name: "mosquitto", scope: .gateway)).secret
                let broker = try await MosquittoBroker(
                    work: dir + "/mosquitto", plugin: plugin, vouch: "http://127.0.0.1:\(try #require(client.port))", gatewayKey: gatewayKey,
                    vouchChainPEM: try await client.call(.get, "/v1/pki/chain.pem").text, extra: ["plugin_opt_report_interval 1"])
                defer { broker.stop() }
                try await broker.waitForLog("loaded 2 devices and policy version 1")
                let sensorFiles = try broker.files(
                    for: sensor, certificatePEM: try #require(sensorAnswer["certificate"]?.stringValue), keyPEM: try sensorKey.pkcs8PEMRepresentation)
                let consoleFiles = try broker.files(
                    for: console, certificatePEM: try #require(consoleAnswer["certificate"]?.stringValue), keyPEM: try consoleKey.pkcs8PEMRepresentation)
                let watcher = try MosquittoBroker.Subscription(broker: broker, device: consoleFiles, topic: "telemetry/#", clientID: console)
                defer { watcher.stop() }
                try await watcher.waitForOutput("received SUBACK")

                // A signed topic: the device's own fresh envelope is delivered; a forged one, a replay
                // and plain text are dropped (QoS 1: the PUBACK says so) and counted.
                let topic = "telemetry/\(sensor)/signed/temperature"
                let did = try DID(try #require(sensorAnswer["did"]?.stringValue))
                let envelope = try await TelemetryEnvelope(device: did, sequence: 1, topic: topic, payload: Data("21.5".utf8)).signed(with: sensorKey)
                let good = try await broker.publish(sensorFiles, topic, envelope)
                #expect(good.status == 0 && !good.output.contains("failed"), "\(good.output)")
                try await watcher.waitForOutput("\(topic) \(envelope)")
                let replayed = try await broker.publish(sensorFiles, topic, envelope)
                #expect(replayed.output.contains("Publish 1 failed: Not authorized"), "\(replayed.output)")
                let forgedEnvelope = try await TelemetryEnvelope(device: did, sequence: 2, topic: topic, payload: Data("99".utf8))
                    .signed(with: SigningKey.generate(.ed25519))
                let forged = try await broker.publish(sensorFiles, topic, forgedEnvelope)
                #expect(forged.output.contains("Publish 1 failed: Not authorized"), "\(forged.output)")
                let plain = try await broker.publish(sensorFiles, topic, "21.5")
                #expect(plain.output.contains("Publish 1 failed: Not authorized"), "\(plain.output)")
                #expect(broker.log.contains("dropped a message of \(sensor)-pub on \(topic): sequence 1 from \(sensor) is not above 1"))
                // The broker's counts reach the device's trust score.
                try await waitFor("the broker's report reaches the trust score", seconds: 20) {
                    let trust = try await client.call(.get, "/v1/devices/\(sensor)/trust", apiKey: admin)
                    let kinds = Set(trust.json["signals"]?.arrayValue.compactMap { $0["kind"]?.stringValue } ?? [])
                    return kinds.isSuperset(of: ["signature.forged", "telemetry.replay"])
                }

                // A policy upload changes what the broker allows at once.
                let moved = mqttPolicyYAML.replacingOccurrences(of: "publish:telemetry/${device.id}/#", with: "publish:data/${device.id}/#")
                #expect(try await fleet.upload(moved).status == 201)
                try await broker.waitForLog("policy version 2 in force")
                let nowDenied = try await broker.publish(sensorFiles, "telemetry/\(sensor)/temperature", "1")
                #expect(nowDenied.output.contains("Publish 1 failed: Not authorized"), "\(nowDenied.output)")
                let nowAllowed = try await broker.publish(sensorFiles, "data/\(sensor)/temperature", "1")
                #expect(nowAllowed.status == 0 && !nowAllowed.output.contains("failed"), "\(nowAllowed.output)")

                // Suspended: dropped and refused; reinstated: back.
                let connected = try MosquittoBroker.Subscription(broker: broker, device: sensorFiles, topic: "commands/\(sensor)/#", clientID: sensor)
                defer { connected.stop() }
                try await connected.waitForOutput("received SUBACK")
                #expect(try await client.call(.post, "/v1/admin/devices/\(sensor)/suspend", apiKey: admin).status == 200)
                try await waitFor("the suspended device's connection closes", seconds: 10) { !connected.process.isRunning }
                let whileSuspended = try await broker.publish(sensorFiles, "data/\(sensor)/t")
                #expect(whileSuspended.output.contains("Connection error: Not authorized"), "\(whileSuspended.output)")
                #expect(try await client.call(.post, "/v1/admin/devices/\(sensor)/reinstate", apiKey: admin).status == 200)
                try await waitFor("the reinstated device connects again") {
                    try await broker.publish(sensorFiles, "data/\(sensor)/t").status == 0
                }

                // Quarantined: dropped, then only the allow-list works.
                let beforeQuarantine = try MosquittoBroker.Subscription(broker: broker, device: sensorFiles, topic: "commands/\(sensor)/#", clientID: sensor)
                defer { beforeQuarantine.stop() }
                try await beforeQuarantine.waitForOutput("received SUBACK")
                #expect(try await client.call(.post, "/v1/admin/devices/\(sensor)/quarantine", apiKey: admin).status == 200)
                try await waitFor("the quarantined device's connection closes", seconds: 10) { !beforeQuarantine.process.isRunning }
                let confined = try await broker.publish(sensorFiles, "data/\(sensor)/t")
                #expect(confined.output.contains("Publish 1 failed: Not authorized"), "\(confined.output)")
                let allowList = try await broker.publish(sensorFiles, "quarantine/\(sensor)")
                #expect(allowList.status == 0 && !allowList.output.contains("failed"), "\(allowList.output)")
            }
        }
    }

    @Test func withVouchDownTheBrokerDecidesFromWhatItHasThenFailsClosedAndCatchesUpWhenVouchIsBack() async throws {
        let plugin = try await Mosquitto.plugin()
        try await withDataDirectory { dir in
            struct Setup: Sendable {
                var sensor: String
                var certificate: String
                var key: String
                var gatewayKey: String
                var chain: String
            }
            let setup = try await withServer(dataDirectory: dir, setup: .live) { client, admin, _ in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(mqttPolicyYAML).status == 201)
                let key = SigningKey.generate(.p256)
                let (sensor, answer) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"], device: DeviceAgent(key: key))
                return Setup(
                    sensor: sensor, certificate: try #require(answer["certificate"]?.stringValue), key: try key.pkcs8PEMRepresentation,
                    gatewayKey: try await client.vouch(.apiKey(admin)).createAPIKey(CreateAPIKey(name: "mosquitto", scope: .gateway)).secret,
                    chain: try await client.call(.get, "/v1/pki/chain.pem").text)
            }
            let sensor = setup.sensor
            // Vouch on a port it gets again after its restart; the broker loads from it.
            let (port, broker) = try await withRunningServer(dataDirectory: dir) { port, _ in
                let broker = try await MosquittoBroker(
                    work: dir + "/mosquitto", plugin: plugin, vouch: "http://127.0.0.1:\(port)", gatewayKey: setup.gatewayKey, vouchChainPEM: setup.chain,
                    extra: ["plugin_opt_max_staleness 8"])
                try await broker.waitForLog("loaded 1 devices and policy version 1")
                return (port, broker)
            }
            defer { broker.stop() }
            let sensorFiles = try broker.files(for: sensor, certificatePEM: setup.certificate, keyPEM: setup.key)
            // Vouch is down: connections go on being decided from what the broker has.
            let whileDown = try await broker.publish(sensorFiles, "telemetry/\(sensor)/t")
            #expect(whileDown.status == 0 && !whileDown.output.contains("failed"), "\(whileDown.output)")
            let denied = try await broker.publish(sensorFiles, "telemetry/other/t")
            #expect(denied.output.contains("Publish 1 failed: Not authorized"), "\(denied.output)")
            let connected = try MosquittoBroker.Subscription(broker: broker, device: sensorFiles, topic: "commands/\(sensor)/#", clientID: sensor)
            defer { connected.stop() }
            try await connected.waitForOutput("received SUBACK")
            // Past max_staleness (8 s), new connections are refused; the open one stays.
            try await waitFor("new connections are refused once the directory is stale", seconds: 30) {
                try await broker.publish(sensorFiles, "telemetry/\(sensor)/t").output.contains("Connection error: Not authorized")
            }
            #expect(broker.log.contains("has not been heard from"))
            try await broker.waitForLog("Vouch has not been heard from for over 8 s (max_staleness): new connections are refused until it is")
            #expect(connected.process.isRunning)

            // Vouch back: a revocation made there reaches the broker, which drops the device.
            try await withRunningServer(dataDirectory: dir, port: port) { port, admin in
                let client = VouchClient(transport: try URLSessionTransport(server: "http://127.0.0.1:\(port)"), credential: .apiKey(admin))
                _ = try await client.act(.revoke, on: sensor)
                try await waitFor("the revocation reaches the broker, which drops the device", seconds: 40) { !connected.process.isRunning }
                let refused = try await broker.publish(sensorFiles, "telemetry/\(sensor)/t")
                #expect(refused.output.contains("Connection error: Not authorized"), "\(refused.output)")
                #expect(broker.log.contains("device \(sensor) is revoked and may not connect"))
                try await broker.waitForLog("Vouch is heard from again; the directory is current")
            }
        }
    }
}
