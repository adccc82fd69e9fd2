import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchAPI
import VouchKit
import VouchTesting
@testable import VouchServer

/// Behind a reverse proxy the rate limit and monitoring see the client named in `X-Forwarded-For`,
/// and only when the proxy is one the operator trusts.
@Suite("Forwarded client addresses from trusted proxies")
struct TrustedProxyTests {
    static let forwarded = HTTPField.Name("X-Forwarded-For")!

    func proxies(_ ranges: String...) throws -> TrustedProxies {
        TrustedProxies(ranges: try ranges.map { try IPAddressRange($0) })
    }

    @Test func theHeaderIsReadFromTheRightPastTrustedProxiesOnlyWhenThePeerIsOne() throws {
        let trusted = try proxies("10.0.0.0/8", "127.0.0.1", "2001:db8::/32")
        func client(_ peer: String, _ values: [String]) -> String? {
            var fields = HTTPFields()
            for value in values { fields.append(HTTPField(name: Self.forwarded, value: value)) }
            return trusted.client(peer: IPAddress(peer), fields: fields)?.description
        }
        // The proxy appended the client; what the client wrote itself (further left) is not read.
        #expect(client("127.0.0.1", ["203.0.113.9, 198.51.100.7"]) == "198.51.100.7")
        // Several proxies in a row, one header or several.
        #expect(client("127.0.0.1", ["198.51.100.7, 10.1.2.3"]) == "198.51.100.7")
        #expect(client("127.0.0.1", ["198.51.100.7", "10.1.2.3"]) == "198.51.100.7")
        // Ports and IPv6 as proxies write them.
        #expect(client("127.0.0.1", ["198.51.100.7:4711"]) == "198.51.100.7")
        #expect(client("127.0.0.1", ["[2001:db9::5]:4711"]) == IPAddress("2001:db9::5")?.description)
        #expect(client("127.0.0.1", ["2001:db9::5"]) == IPAddress("2001:db9::5")?.description)
        // A peer that is not trusted: its header is not believed.
        #expect(client("192.0.2.1", ["198.51.100.7"]) == nil)
        // No header, or nothing usable at the right: the peer (nil) or the nearest trusted hop stands.
        #expect(client("127.0.0.1", []) == nil)
        #expect(client("127.0.0.1", ["unknown"]) == nil)
        #expect(client("127.0.0.1", ["198.51.100.7, unknown, 10.1.2.3"]) == "10.1.2.3")
        // Every hop trusted: the leftmost.
        #expect(client("127.0.0.1", ["10.9.9.9, 10.1.2.3"]) == "10.9.9.9")
        // The walk is bounded: more trusted hops than that and the nearest stands.
        let many = (0..<40).map { "10.0.0.\($0)" }.joined(separator: ", ")
        #expect(client("127.0.0.1", ["198.51.100.7, " + many]) == "10.0.0.24")
        // Nothing configured: nothing believed.
        #expect(TrustedProxies(ranges: []).client(peer: IPAddress("127.0.0.1"), fields: [Self.forwarded: "198.51.100.7"]) == nil)
    }

    @Test func behindATrustedProxyTheRateLimitAndMonitoringSeeTheForwardedClient() async throws {
        try await withDataDirectory { dir in
            let loopback = [try IPAddressRange("127.0.0.1")]
            try await withServer(dataDirectory: dir, setup: .live, rateLimitPerMinute: 2, trustedProxies: loopback) { client, admin, _ in
                func challenge(_ from: String) async throws -> HTTPResult {
                    try await client.call(.post, "/v1/auth/challenge", headers: [Self.forwarded: from])
                }
                #expect(try await challenge("203.0.113.5").status == 201)
                #expect(try await challenge("203.0.113.5").status == 201)
                expectProblem(try await challenge("203.0.113.5"), 429, "retry after")
                // Another client behind the same proxy has its own allowance; a spoofed left part changes nothing.
                #expect(try await challenge("203.0.113.6").status == 201)
                expectProblem(try await challenge("198.51.100.1, 203.0.113.5"), 429, "retry after")
            }
            try await withServer(dataDirectory: dir, setup: .live, trustedProxies: loopback) { client, admin, _ in
                let device = DeviceAgent()
                let (id, _) = try await RevocationTests.enroll(client, admin: admin, device: device)
                let (nonce, proof) = try await device.proof(client, deviceID: id)
                var headers = try device.dpop(.post, "/v1/auth/token")
                headers[Self.forwarded] = "198.51.100.7"
                let issued = try await client.call(.post, "/v1/auth/token", json: try JSONValue(encoding: TokenRequest(nonce: nonce, proof: proof)), headers: headers)
                #expect(issued.status == 200, "\(issued.text)")
                let detail = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json
                #expect(detail["activity"]?["sourceAddresses"]?.arrayValue.compactMap(\.stringValue) == ["198.51.100.7"])
            }
        }
    }

    @Test func withNoTrustedProxyTheHeaderIsIgnored() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live, rateLimitPerMinute: 2) { client, _, _ in
                #expect(try await client.call(.post, "/v1/auth/challenge", headers: [Self.forwarded: "203.0.113.1"]).status == 201)
                #expect(try await client.call(.post, "/v1/auth/challenge", headers: [Self.forwarded: "203.0.113.2"]).status == 201)
                // Every client-chosen address is the same peer: the limit holds.
                expectProblem(try await client.call(.post, "/v1/auth/challenge", headers: [Self.forwarded: "203.0.113.3"]), 429, "retry after")
            }
        }
    }
}

let nginxPath: String? = ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// nginx in front of the server, configured as the README shows, with its connections to the server
/// coming from 127.0.0.3 (`proxy_bind`) so that the proxy and the test's client have different
/// addresses. Runs `body` with nginx's port; stops it afterwards.
func withNginx<T>(upstreamPort: Int, _ body: (Int) async throws -> T) async throws -> T {
    let nginx = try #require(nginxPath)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-nginx-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    for _ in 0..<3 {
        let port = try TestPostgres.freeLoopbackPort()
        let configuration = """
            \(getuid() == 0 ? "user root;" : "")
            daemon off;
            pid \(directory)/nginx.pid;
            error_log \(directory)/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(directory)/body;
                proxy_temp_path \(directory)/proxy;
                fastcgi_temp_path \(directory)/fastcgi;
                uwsgi_temp_path \(directory)/uwsgi;
                scgi_temp_path \(directory)/scgi;
                server {
                    listen 127.0.0.1:\(port);
                    location / {
                        proxy_pass http://127.0.0.1:\(upstreamPort);
                        proxy_bind 127.0.0.3;
                        proxy_set_header Host $host;
                        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                        proxy_set_header X-Forwarded-Proto $scheme;
                    }
                }
            }
            """
        try Data(configuration.utf8).write(to: URL(fileURLWithPath: directory + "/nginx.conf"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: nginx)
        process.arguments = ["-c", directory + "/nginx.conf", "-p", directory]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        var ready = false
        while ContinuousClock.now < deadline, process.isRunning {
            let probe = try await run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/healthz"])
            if probe.output == "200" {
                ready = true
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        if ready { return try await body(port) }
    }
    let log = (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? ""
    throw NginxDidNotStart(log: log)
}

struct NginxDidNotStart: Error, CustomStringConvertible {
    var log: String
    var description: String { "nginx did not answer within 10 s: \(log)" }
}

@Suite(
    "Behind nginx",
    .enabled(if: (nginxPath != nil && curlPath != nil) || ProcessInfo.processInfo.environment["CI"] != nil, "needs nginx and curl (CI installs them)")
)
struct NginxProxyTests {
    /// Three challenges through nginx, then one straight to the server, from the same client: with
    /// the proxy trusted they are one client's (the fourth is refused whichever way it comes, and
    /// a client-written X-Forwarded-For buys nothing); without, the proxy is the client and the
    /// direct request has its own allowance.
    @Test(arguments: [true, false])
    func theRateLimitSeesTheClientNginxForwards(trusted: Bool) async throws {
        let curl = try #require(curlPath)
        try await withDataDirectory { dir in
            let proxies = trusted ? [try IPAddressRange("127.0.0.3")] : []
            try await withServer(dataDirectory: dir, setup: .live, rateLimitPerMinute: 2, trustedProxies: proxies) { client, _, _ in
                let upstream = try #require(client.port)
                try await withNginx(upstreamPort: upstream) { port in
                    func challenge(_ base: Int, spoofing: String? = nil) async throws -> String {
                        let headers = spoofing.map { ["-H", "X-Forwarded-For: \($0)"] } ?? []
                        return try await run(curl, ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"] + headers + ["http://127.0.0.1:\(base)/v1/auth/challenge"]).output
                    }
                    let answers = [
                        try await challenge(port), try await challenge(port, spoofing: "203.0.113.5"),
                        try await challenge(port, spoofing: "203.0.113.6"), try await challenge(upstream),
                    ]
                    #expect(answers == ["201", "201", "429", trusted ? "429" : "201"])
                }
            }
        }
    }
}
