import Foundation
import Testing
import VouchTesting

/// `vouch serve --tls-cert --tls-key`: the main listener speaks only TLS, with the operator's
/// certificate, and refuses a key others may read or one that is not the certificate's.
@Suite("vouch serve with TLS")
struct ServeTLSTests {
    static func certificate(_ name: String, in vouch: VouchProcess) throws {
        let made = try vouch.program("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + "-key.pem", "-out", name + ".pem",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
        ])
        #expect(made.status == 0, "\(made.output)")
        _ = chmod(vouch.url(name + "-key.pem").path, 0o600)
    }

    @Test func theMainListenerSpeaksTLSWithTheOperatorsCertificate() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            try Self.certificate("server", in: vouch)
            try Self.certificate("other", in: vouch)

            // Refused before anything is made: half a pair, a key others may read, a key not the certificate's.
            try await vouch.run("serve", "--port", "0", "--data-dir", "data", "--tls-cert", "server.pem").expectUsageError(mentioning: "give both --tls-cert and --tls-key")
            _ = chmod(vouch.url("other-key.pem").path, 0o644)
            try await vouch.run("serve", "--port", "0", "--data-dir", "data", "--tls-cert", "other.pem", "--tls-key", "other-key.pem")
                .expectUsageError(mentioning: "must be readable by its owner only")
            _ = chmod(vouch.url("other-key.pem").path, 0o600)
            try await vouch.run("serve", "--port", "0", "--data-dir", "data", "--tls-cert", "server.pem", "--tls-key", "other-key.pem")
                .expectUsageError(mentioning: "does not go with the certificate")
            #expect(!vouch.exists("data"), "a refused start made its data directory")

            let log = vouch.url("serve.log")
            try Data().write(to: log)
            let server = Process()
            server.executableURL = vouch.executable
            server.arguments = ["serve", "--port", "0", "--data-dir", "data", "--tls-cert", "server.pem", "--tls-key", "server-key.pem"]
            server.currentDirectoryURL = vouch.directory
            let handle = try FileHandle(forWritingTo: log)
            server.standardOutput = handle
            server.standardError = handle
            try server.run()
            defer {
                server.terminate()
                server.waitUntilExit()
            }
            var url: String?
            let deadline = ContinuousClock.now + .seconds(30)
            while url == nil, ContinuousClock.now < deadline, server.isRunning {
                let printed = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                url = printed.split(separator: "\n").first { $0.hasPrefix("vouch serving ") }?.split(separator: " ")[2].description
                if url == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            let printed = (try? vouch.text("serve.log")) ?? ""
            let base = try #require(url, "the server did not start: \(printed)")
            #expect(base.hasPrefix("https://127.0.0.1:"), "the default public URL names https: \(base)")
            let admin = try vouch.text("data/admin-api-key").trimmingCharacters(in: .whitespacesAndNewlines)
            let health = try vouch.program("/usr/bin/curl", ["-s", "--cacert", "server.pem", base + "/healthz"])
            #expect(health.status == 0 && health.output.hasPrefix("ok"), "\(health)")
            let groups = try vouch.program(
                "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", "server.pem", "-H", "Authorization: Bearer " + admin, base + "/v1/admin/groups"])
            #expect(groups.output == "200", "\(groups)")
            // Not with another CA, and not in clear.
            let untrusted = try vouch.program("/usr/bin/curl", ["-s", "--cacert", "other.pem", base + "/healthz"])
            #expect(untrusted.status == 60, "curl trusted a certificate its CA file does not hold: \(untrusted)")
            let clear = try vouch.program(
                "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", base.replacingOccurrences(of: "https://", with: "http://") + "/healthz"])
            #expect(clear.output != "200", "the TLS listener answered plain HTTP: \(clear)")
        }
    }
}
