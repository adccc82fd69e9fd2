import Foundation
import Testing
import VouchTesting

/// Debian's RabbitMQ (rabbitmq-server, with its MQTT, HTTP auth backend and management plugins),
/// started by a test on ports of its own and stopped with it.
final class RabbitMQBroker: @unchecked Sendable {
    static let server = "/usr/lib/rabbitmq/bin/rabbitmq-server"
    static var installed: Bool { FileManager.default.isExecutableFile(atPath: server) }

    let work: String
    let mqttPort: Int
    let managementPort: Int
    let process = Process()
    var logPath: String { work + "/out.log" }

    /// Writes the broker's files and starts it: MQTT over TLS only, devices logging in by their
    /// certificate's common name (verified against Vouch's CA), asked about at Vouch's
    /// `/v1/brokers/rabbitmq/…`; an internal administrator for the management API.
    init(work: String, vouchPort: Int, managementPort: Int, adminPassword: String, vouchChainPEM: String) async throws {
        self.work = work
        self.managementPort = managementPort
        try await Mosquitto.writeBrokerFiles(in: work, vouchChainPEM: vouchChainPEM)
        mqttPort = try await Mosquitto.freePort()
        let distribution = try await Mosquitto.freePort()
        let vouch = "http://127.0.0.1:\(vouchPort)/v1/brokers/rabbitmq"
        let configuration = """
            listeners.tcp = none
            management.tcp.port = \(managementPort)
            management.tcp.ip = 127.0.0.1
            mqtt.listeners.tcp = none
            mqtt.listeners.ssl.default = 127.0.0.1:\(mqttPort)
            mqtt.allow_anonymous = false
            mqtt.ssl_cert_login = true
            ssl_cert_login_from = common_name
            ssl_options.cacertfile = \(work)/vouch-ca.pem
            ssl_options.certfile = \(work)/broker.pem
            ssl_options.keyfile = \(work)/broker-key.pem
            ssl_options.verify = verify_peer
            ssl_options.fail_if_no_peer_cert = true
            auth_backends.1 = internal
            auth_backends.2 = http
            auth_http.http_method = post
            auth_http.user_path = \(vouch)/user
            auth_http.vhost_path = \(vouch)/vhost
            auth_http.resource_path = \(vouch)/resource
            auth_http.topic_path = \(vouch)/topic
            default_user = vouch-admin
            default_pass = \(adminPassword)
            default_user_tags.administrator = true
            loopback_users = none

            """
        try Data(configuration.utf8).write(to: URL(fileURLWithPath: work + "/rabbitmq.conf"))
        try Data("[rabbitmq_mqtt,rabbitmq_auth_backend_http,rabbitmq_management].\n".utf8).write(to: URL(fileURLWithPath: work + "/enabled_plugins"))
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: Self.server)
        process.environment = ProcessInfo.processInfo.environment.merging([
            "RABBITMQ_CONFIG_FILE": work + "/rabbitmq", "RABBITMQ_ENABLED_PLUGINS_FILE": work + "/enabled_plugins",
            "RABBITMQ_MNESIA_BASE": work + "/mnesia", "RABBITMQ_LOG_BASE": work + "/log", "RABBITMQ_PID_FILE": work + "/pid",
            "RABBITMQ_NODENAME": "vouch-\(UUID().uuidString.prefix(8).lowercased())@localhost", "RABBITMQ_DIST_PORT": String(distribution),
            "HOME": work,
        ]) { $1 }
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until the broker says it has started (about 10 s).
    func waitUntilStarted(seconds: Int = 90) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if log.contains("Starting broker... completed") { return }
            guard process.isRunning else {
                Issue.record("rabbitmq-server stopped: \(log.suffix(3000))")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("rabbitmq-server did not start within \(seconds) s: \(log.suffix(3000))")
        throw CancellationError()
    }

    func stop() {
        // The script runs the Erlang VM, whose pid it writes; SIGTERM stops it cleanly.
        if let text = try? String(contentsOfFile: work + "/pid", encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(pid, SIGTERM)
        }
        guard process.processIdentifier > 0 else { return }
        if process.isRunning {
            process.terminate()
        }
        process.waitUntilExit()
    }

    /// A test that fails before it stops the broker still does not leave it running.
    deinit { stop() }

    func clientArguments(_ device: MosquittoBroker.DeviceFiles, clientID: String) -> [String] {
        ["-h", "127.0.0.1", "-p", String(mqttPort), "--cafile", work + "/broker.pem", "--cert", device.certificate, "--key", device.key, "-V", "mqttv311",
         "-i", clientID]
    }
}
