import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchAPI
import VouchKit
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
