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
}
