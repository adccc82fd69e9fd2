import CMosquitto
import Foundation
import Synchronization
import VouchGateway

/// The plugin inside the broker: options read at start, the gate, the sync that keeps it
/// current, and log lines from the sync's thread, written on the broker's.
final class Plugin: Sendable {
    /// The broker's name for this plugin, used on its thread only.
    nonisolated(unsafe) let identifier: OpaquePointer
    let gate: BrokerGate
    let sync: GatewaySync
    private let lines = LogLines()

    init(identifier: OpaquePointer, options: PluginOptions) throws {
        self.identifier = identifier
        gate = BrokerGate(settings: BrokerGate.Settings(maxStaleness: .seconds(options.maxStaleness), failClosed: options.failClosed))
        let lines = self.lines
        sync = try GatewaySync(gate: gate, server: options.server, apiKey: options.apiKey, reportEvery: .seconds(options.reportInterval)) { line in
            lines.waiting.withLock { if $0.count < 1000 { $0.append(line) } }
        }
    }

    /// Log lines waiting for the broker's thread.
    func takeLines() -> [String] {
        lines.waiting.withLock { waiting in
            defer { waiting.removeAll() }
            return waiting
        }
    }

    /// Whether the client presented a certificate.
    func hasCertificate(_ client: OpaquePointer) -> Bool {
        var length: Int32 = 0
        guard let buffer = vouch_mosquitto_certificate_der(client, &length) else { return false }
        free(buffer)
        return true
    }

    static func log(_ level: Int32, _ message: String) {
        vouch_mosquitto_log(level, "vouch: " + message)
    }
}

final class LogLines: Sendable {
    let waiting = Mutex<[String]>([])
}

/// `plugin_opt_*` lines of mosquitto.conf.
struct PluginOptions {
    var server = ""
    var apiKey = ""
    var maxStaleness: Int64 = 300
    var failClosed = true
    var reportInterval: Int64 = 10

    struct Problem: Error { var message: String }

    init(_ pairs: [(String, String)]) throws(Problem) {
        var keyFile: String?
        for (key, value) in pairs {
            switch key {
            case "vouch_url":
                guard let url = URL(string: value), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                    throw Problem(message: "plugin_opt_vouch_url \(value.prefix(200)) is not an http or https URL")
                }
                server = value
            case "api_key_file":
                keyFile = value
            case "max_staleness":
                guard let seconds = Int64(value), (1...604_800).contains(seconds) else {
                    throw Problem(message: "plugin_opt_max_staleness is a number of seconds from 1 to 604800 (a week), not \(value.prefix(40))")
                }
                maxStaleness = seconds
            case "report_interval":
                guard let seconds = Int64(value), (1...3600).contains(seconds) else {
                    throw Problem(message: "plugin_opt_report_interval is a number of seconds from 1 to 3600, not \(value.prefix(40))")
                }
                reportInterval = seconds
            case "fail_closed":
                guard let flag = ["true": true, "false": false][value] else {
                    throw Problem(message: "plugin_opt_fail_closed is true or false, not \(value.prefix(40))")
                }
                failClosed = flag
            default:
                throw Problem(message: "plugin_opt_\(key.prefix(64)) is not an option of this plugin (vouch_url, api_key_file, max_staleness, fail_closed, report_interval)")
            }
        }
        guard !server.isEmpty else { throw Problem(message: "plugin_opt_vouch_url is missing: the Vouch server to follow, such as http://127.0.0.1:8080") }
        guard let keyFile else {
            throw Problem(message: "plugin_opt_api_key_file is missing: a file (mode 0600) holding a gateway-scoped API key (vouch admin api-key create --scope gateway)")
        }
        apiKey = try Self.readKey(keyFile)
    }

    /// The key in `path`, which only its owner may read.
    static func readKey(_ path: String) throws(Problem) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw Problem(message: "plugin_opt_api_key_file \(path.prefix(200)) cannot be read: \(String(cString: strerror(errno)))") }
        guard info.st_mode & 0o077 == 0 else {
            throw Problem(message: "plugin_opt_api_key_file \(path.prefix(200)) may be read by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Problem(message: "plugin_opt_api_key_file \(path.prefix(200)) cannot be read as text")
        }
        let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty, key.utf8.count <= 512, !key.contains(where: { $0.isWhitespace }) else {
            throw Problem(message: "plugin_opt_api_key_file \(path.prefix(200)) does not hold one API key")
        }
        return key
    }
}
