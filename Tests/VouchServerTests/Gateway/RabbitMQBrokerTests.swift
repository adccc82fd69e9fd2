import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchAPI
import VouchCore
import VouchKit
import VouchServer
import VouchTesting

/// Debian's RabbitMQ with its MQTT plugin asking Vouch through rabbitmq_auth_backend_http, devices
/// logging in with the certificates Vouch issued (ssl_cert_login), and mosquitto's clients.
@Suite(
    "RabbitMQ with Vouch as its auth backend",
    .enabled(
        if: (RabbitMQBroker.installed && Mosquitto.installed) || ProcessInfo.processInfo.environment["CI"] != nil,
        "needs rabbitmq-server and mosquitto-clients (CI installs them)")
)
struct RabbitMQBrokerTests {
    @Test func devicesActWithinTheirGrantsAndARevokedDeviceIsDisconnectedAndRefused() async throws {
        let managementPort = try await Mosquitto.freePort()
        let password = UUID().uuidString
        var settings = RabbitMQSettings()
        settings.sources = [try IPAddressRange("127.0.0.1/32")]
        settings.management = "http://127.0.0.1:\(managementPort)"
        settings.managementUser = "vouch-admin"
        settings.managementPassword = password
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live, rabbitMQ: settings) { client, admin, _ in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(mqttPolicyYAML).status == 201)
                let sensorKey = SigningKey.generate(.p256)
                let (sensor, sensorAnswer) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"], device: DeviceAgent(key: sensorKey))
                let consoleKey = SigningKey.generate(.p256)
                let (console, consoleAnswer) = try await fleet.enroll(group: "consoles", zone: "plant-ops", roles: ["console"], device: DeviceAgent(key: consoleKey))
                let broker = try await RabbitMQBroker(
                    work: dir + "/rabbitmq", vouchPort: try #require(client.port), managementPort: managementPort, adminPassword: password,
                    vouchChainPEM: try await client.call(.get, "/v1/pki/chain.pem").text)
                defer { broker.stop() }
                try await broker.waitUntilStarted()
                let sensorFiles = try MosquittoBroker.DeviceFiles.write(
                    in: broker.work, id: sensor, certificatePEM: try #require(sensorAnswer["certificate"]?.stringValue), keyPEM: try sensorKey.pkcs8PEMRepresentation)
                let consoleFiles = try MosquittoBroker.DeviceFiles.write(
                    in: broker.work, id: console, certificatePEM: try #require(consoleAnswer["certificate"]?.stringValue), keyPEM: try consoleKey.pkcs8PEMRepresentation)
                func publish(_ device: MosquittoBroker.DeviceFiles, _ topic: String, clientID: String? = nil) async throws -> (status: Int32, output: String) {
                    try await run(Mosquitto.publisher, broker.clientArguments(device, clientID: clientID ?? device.id + "-pub") + ["-q", "1", "-t", topic, "-m", "21.5"])
                }

                // The console reads the sensors' telemetry; the sensor publishes its own.
                let watcher = try MosquittoBroker.Subscription(
                    work: broker.work, connection: broker.clientArguments(consoleFiles, clientID: console), topic: "telemetry/#") { broker.log }
                defer { watcher.stop() }
                try await watcher.waitForOutput("received SUBACK")
                let published = try await publish(sensorFiles, "telemetry/\(sensor)/temperature")
                #expect(published.status == 0, "\(published.output)")
                try await watcher.waitForOutput("telemetry/\(sensor)/temperature 21.5")
                // Another device's topic: RabbitMQ closes the connection (MQTT 3.1.1 has no refusal for a
                // publish), and the message is never delivered.
                let other = try await publish(sensorFiles, "telemetry/\(console)/temperature")
                #expect(other.status == 7 && other.output.contains("The connection was lost"), "\(other.output)")
                // Another device's client id: refused at connection.
                let takeover = try await publish(sensorFiles, "telemetry/\(sensor)/temperature", clientID: console)
                #expect(takeover.status == 5 && takeover.output.contains("Connection Refused: not authorised"), "\(takeover.output)")
                #expect(!watcher.output.contains("telemetry/\(console)/temperature"))

                // Revoked while connected: Vouch closes its connection through the management API, and
                // RabbitMQ refuses it after.
                let connected = try MosquittoBroker.Subscription(
                    work: broker.work, connection: broker.clientArguments(sensorFiles, clientID: sensor), topic: "commands/\(sensor)/#") { broker.log }
                defer { connected.stop() }
                try await connected.waitForOutput("received SUBACK")
                #expect(connected.process.isRunning, "\(connected.output)")
                #expect(try await client.call(.post, "/v1/admin/devices/\(sensor)/revoke", apiKey: admin).status == 200)
                try await waitFor("the revoked device's connection closes", seconds: 20) { !connected.process.isRunning }
                let again = try await publish(sensorFiles, "telemetry/\(sensor)/temperature")
                #expect(again.status != 0 && again.output.contains("Connection Refused: bad user name or password"), "\(again.output)")
            }
        }
    }
}
