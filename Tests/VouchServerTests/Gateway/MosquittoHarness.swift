import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Testing
import VouchAPI
import VouchServer
import VouchTesting

/// Debian's Mosquitto and its clients, and the headers the plugin builds against (CI installs
/// mosquitto, mosquitto-clients, mosquitto-dev and libmosquitto-dev).
enum Mosquitto {
    static let broker = "/usr/sbin/mosquitto"
    static let publisher = "/usr/bin/mosquitto_pub"
    static let subscriber = "/usr/bin/mosquitto_sub"
    static var installed: Bool {
        [broker, publisher, subscriber].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
            && FileManager.default.fileExists(atPath: "/usr/include/mosquitto_plugin.h")
    }

    /// The checkout this test was built from.
    static var checkout: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The plugin, built once per test run from Integrations/Mosquitto (its own package; the first
    /// build compiles the main package's sources again, a few minutes).
    static func plugin() async throws -> String {
        try await Built.shared.path()
    }

    private actor Built {
        static let shared = Built()
        private var built: String?

        func path() async throws -> String {
            if let built { return built }
            let package = Mosquitto.checkout.appendingPathComponent("Integrations/Mosquitto").path
            let (status, output) = try await run("/usr/bin/env", ["swift", "build", "--package-path", package, "--product", "vouch-mosquitto"])
            guard status == 0 else {
                Issue.record("the plugin does not build: \(output.suffix(4000))")
                throw CancellationError()
            }
            let path = package + "/.build/debug/libvouch-mosquitto.so"
            #expect(FileManager.default.fileExists(atPath: path), "\(output.suffix(2000))")
            built = path
            return path
        }
    }

    /// A broker's files under `work`: its own TLS certificate for 127.0.0.1 (`broker.pem`,
    /// `broker-key.pem`, made with openssl) and Vouch's chain as the CA of its clients (`vouch-ca.pem`).
    static func writeBrokerFiles(in work: String, vouchChainPEM: String) async throws {
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let openssl = try #require(opensslPath)
        let made = try await run(openssl, [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", work + "/broker-key.pem",
            "-out", work + "/broker.pem", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2",
        ])
        #expect(made.status == 0, "\(made.output)")
        try Data(vouchChainPEM.utf8).write(to: URL(fileURLWithPath: work + "/vouch-ca.pem"))
    }

    /// A port free now on 127.0.0.1 (Mosquitto cannot be asked to choose one and say which).
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        return port
    }
}

/// A Mosquitto broker with the plugin, on a TLS listener that requires a client certificate issued
/// by the Vouch under test; started by the test and stopped with it.
final class MosquittoBroker: @unchecked Sendable {
    let work: String
    let port: Int
    let process = Process()
    var logPath: String { work + "/mosquitto.log" }

    /// Writes the broker's files under `work` and starts it: its own TLS certificate (made with
    /// openssl), Vouch's chain as the CA for clients, the gateway key (mode 0600).
    init(work: String, plugin: String, vouch: String, gatewayKey: String, vouchChainPEM: String, extra: [String] = []) async throws {
        self.work = work
        try await Mosquitto.writeBrokerFiles(in: work, vouchChainPEM: vouchChainPEM)
        FileManager.default.createFile(atPath: work + "/gateway-key", contents: Data(gatewayKey.utf8), attributes: [.posixPermissions: 0o600])
        port = try await Mosquitto.freePort()
        let configuration = [
            // Run as root (as CI is), Mosquitto would become user mosquitto and not read these files.
            "user \(NSUserName())",
            "per_listener_settings false",
            "allow_anonymous false",
            "log_dest file \(work)/mosquitto.log",
            "log_type all",
            "plugin \(plugin)",
            "plugin_opt_vouch_url \(vouch)",
            "plugin_opt_api_key_file \(work)/gateway-key",
        ] + extra + [
            "listener \(port) 127.0.0.1",
            "cafile \(work)/vouch-ca.pem",
            "certfile \(work)/broker.pem",
            "keyfile \(work)/broker-key.pem",
            "require_certificate true",
        ]
        try Data((configuration.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: work + "/mosquitto.conf"))
        process.executableURL = URL(fileURLWithPath: Mosquitto.broker)
        process.arguments = ["-c", work + "/mosquitto.conf"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: { FileManager.default.createFile(atPath: work + "/stderr", contents: nil); return work + "/stderr" }()))
        try process.run()
    }

    /// The broker's log so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until the log has a line containing `text`.
    func waitForLog(_ text: String, seconds: Int = 30) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if log.contains(text) { return }
            guard process.isRunning else {
                Issue.record("mosquitto stopped: \(log.suffix(3000)) \((try? String(contentsOfFile: work + "/stderr", encoding: .utf8)) ?? "")")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("mosquitto's log has no \"\(text)\" within \(seconds) s: \(log.suffix(3000))")
        throw CancellationError()
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// A test that fails before it stops the broker still does not leave it running.
    deinit { stop() }

    /// A device's TLS files for the clients, written under `work`.
    struct DeviceFiles: Sendable {
        var id: String
        var certificate: String
        var key: String

        /// Writes a device's certificate and key (mode 0600) under `directory`.
        static func write(in directory: String, id: String, certificatePEM: String, keyPEM: String, name: String? = nil) throws -> DeviceFiles {
            let base = directory + "/" + (name ?? id)
            try Data(certificatePEM.utf8).write(to: URL(fileURLWithPath: base + "-cert.pem"))
            FileManager.default.createFile(atPath: base + "-key.pem", contents: Data(keyPEM.utf8), attributes: [.posixPermissions: 0o600])
            return DeviceFiles(id: id, certificate: base + "-cert.pem", key: base + "-key.pem")
        }
    }

    func files(for id: String, certificatePEM: String, keyPEM: String, name: String? = nil) throws -> DeviceFiles {
        try DeviceFiles.write(in: work, id: id, certificatePEM: certificatePEM, keyPEM: keyPEM, name: name)
    }

    func clientArguments(_ device: DeviceFiles, clientID: String?) -> [String] {
        ["-h", "127.0.0.1", "-p", String(port), "--cafile", work + "/broker.pem", "--cert", device.certificate, "--key", device.key, "-V", "mqttv5"]
            + (clientID.map { ["-i", $0] } ?? [])
    }

    /// Publishes one message at QoS 1 (so that a refusal comes back in the PUBACK).
    func publish(_ device: DeviceFiles, _ topic: String, _ message: String = "hello", clientID: String? = nil) async throws -> (status: Int32, output: String) {
        try await run(Mosquitto.publisher, clientArguments(device, clientID: clientID ?? device.id + "-pub") + ["-q", "1", "-t", topic, "-m", message])
    }

    /// A mosquitto_sub running until it is stopped or disconnected; what it printed is `output`.
    final class Subscription: @unchecked Sendable {
        let process = Process()
        let path: String
        /// The broker's log, for a failure's message.
        let brokerLog: @Sendable () -> String

        convenience init(broker: MosquittoBroker, device: DeviceFiles, topic: String, clientID: String) throws {
            try self.init(work: broker.work, connection: broker.clientArguments(device, clientID: clientID), topic: topic) { broker.log }
        }

        init(work: String, connection: [String], topic: String, brokerLog: @escaping @Sendable () -> String) throws {
            self.brokerLog = brokerLog
            path = work + "/sub-\(UUID().uuidString)"
            FileManager.default.createFile(atPath: path, contents: nil)
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            // Line-buffered (stdbuf execs it, same process): otherwise nothing reaches the file until it ends.
            process.executableURL = URL(fileURLWithPath: "/usr/bin/stdbuf")
            process.arguments = ["-oL", Mosquitto.subscriber] + connection + ["-q", "1", "-t", topic, "-v", "-d"]
            process.standardOutput = output
            process.standardError = output
            try process.run()
        }

        var output: String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

        func waitForOutput(_ text: String, seconds: Int = 20) async throws {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < deadline {
                if output.contains(text) { return }
                try await Task.sleep(for: .milliseconds(10))
            }
            Issue.record("mosquitto_sub printed no \"\(text)\" within \(seconds) s: \(output.suffix(2000)); broker: \(brokerLog().suffix(3000))")
            throw CancellationError()
        }

        func stop() {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }

        deinit { stop() }
    }
}

/// Runs the real application on `port` (0: the kernel chooses) over `dataDirectory`, as `vouch
/// serve` does, until `body` returns; hands it the port and the admin key. Unlike `withServer`'s
/// live setup, a port can be asked for again, so that a broker finds the server where it was
/// after a restart.
func withRunningServer<T: Sendable>(
    dataDirectory: String, port: Int = 0, heartbeat: Duration = .milliseconds(200), _ body: @Sendable (Int, String) async throws -> T
) async throws -> T {
    var logger = Logger(label: "vouch-test")
    logger.logLevel = .warning
    var configuration = ServerConfiguration(port: port, dataDirectory: dataDirectory, publicURL: "https://vouch.test", checkpointInterval: .milliseconds(50))
    configuration.eventStreamHeartbeat = heartbeat
    let server = try await buildApplication(configuration: configuration, logger: logger)
    let admin = try String(contentsOfFile: dataDirectory + "/admin-api-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    let application = server.application
    let running = Task { try await application.runService() }
    let bound = server.port
    func stop() async throws {
        running.cancel()
        _ = await running.result
        try await waitForSQLiteRelease(dataDirectory)
    }
    do {
        let client = VouchClient(transport: try URLSessionTransport(server: "http://127.0.0.1:\(bound)"))
        try await waitFor("the server answers /healthz", seconds: 30) { (try? await client.health()) != nil }
        let result = try await body(bound, admin)
        try await stop()
        return result
    } catch {
        try? await stop()
        throw error
    }
}
