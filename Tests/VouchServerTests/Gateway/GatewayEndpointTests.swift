import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchAPI
import VouchCore
import VouchKit
import SwiftASN1
import X509

@Suite("Gateway reads (/v1/gateway)")
struct GatewayEndpointTests {
    @Test func pagesWalkEveryDeviceWithItsGoodCertificatesAndBadQueriesAreRefused() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(mqttPolicyYAML).status == 201)
                var enrolled: [String: String] = [:]
                for index in 0..<3 {
                    let (id, answer) = try await fleet.enroll(group: "g\(index)", zone: "line-3", roles: ["sensor"])
                    enrolled[id] = try CertificateIdentitySerial.of(try #require(answer["certificate"]?.stringValue))
                }
                let gateway = try await fleet.apiKey("broker", scope: "gateway")
                let revoked = try #require(enrolled.keys.sorted().last)
                #expect(try await client.call(.post, "/v1/admin/devices/\(revoked)/revoke", apiKey: admin).status == 200)

                var seen: [String: JSONValue] = [:]
                var after: String?
                var sequences: Set<Double> = []
                repeat {
                    let page = try await client.call(.get, "/v1/gateway/devices?limit=2" + (after.map { "&after=\($0)" } ?? ""), apiKey: gateway)
                    #expect(page.status == 200, "\(page.text)")
                    for device in page.json["devices"]?.arrayValue ?? [] { seen[try #require(device["id"]?.stringValue)] = device }
                    sequences.insert(try #require(page.json["sequence"]?.numberValue))
                    after = page.json["next"]?.stringValue
                } while after != nil
                #expect(Set(seen.keys) == Set(enrolled.keys))
                #expect(sequences.count == 1 && sequences.first! > 0)
                for (id, serial) in enrolled {
                    let device = try #require(seen[id])
                    #expect(device["roles"] == .array([.string("sensor")]) && device["zone"]?.stringValue == "line-3")
                    #expect(device["publicKey"]?["kty"] != nil)
                    if id == revoked {
                        #expect(device["state"]?.stringValue == "revoked" && device["serials"] == .array([]), "\(device)")
                    } else {
                        #expect(device["state"]?.stringValue == "active" && device["serials"] == .array([.string(serial)]), "\(device)")
                    }
                }
                let one = try await client.call(.get, "/v1/gateway/devices/\(revoked)", apiKey: gateway)
                #expect(one.status == 200 && one.json["id"]?.stringValue == revoked && one.json["group"]?.stringValue?.hasPrefix("g") == true)
                let policy = try await client.call(.get, "/v1/gateway/policy", apiKey: gateway)
                #expect(policy.json["version"]?.numberValue == 1 && policy.json["source"]?.stringValue == mqttPolicyYAML)

                expectProblem(try await client.call(.get, "/v1/gateway/devices?limit=0", apiKey: gateway), 400, "limit must be a whole number from 1 to 1000")
                expectProblem(try await client.call(.get, "/v1/gateway/devices?limit=1001", apiKey: gateway), 400, "limit must be")
                expectProblem(try await client.call(.get, "/v1/gateway/devices?limit=1e3", apiKey: gateway), 400, "limit must be")
                expectProblem(try await client.call(.get, "/v1/gateway/devices?after=", apiKey: gateway), 400, "after is the next of the previous page")
                expectProblem(try await client.call(.get, "/v1/gateway/devices/dev_nope", apiKey: gateway), 404, "no device dev_nope")
                expectProblem(try await client.call(.get, "/v1/gateway/stream?after=99999999", apiKey: gateway), 409, "past the newest")
                expectProblem(try await client.call(.get, "/v1/gateway/stream?after=-1", apiKey: gateway), 400, "after")
                expectProblem(try await client.call(.get, "/v1/gateway/policy"), 401, "API key")
            }
        }
    }

    @Test func theStreamSendsEachChangedDeviceAsItIsNowAndEachPolicy() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live, heartbeat: .milliseconds(100)) { client, admin, _ in
                let fleet = PolicyFleet(client: client, admin: admin)
                let gateway = try await fleet.apiKey("broker", scope: "gateway")
                let stream = try EventStreamReader(url: "http://127.0.0.1:\(try #require(client.port))/v1/gateway/stream", apiKey: gateway)
                defer { stream.stop() }
                try await stream.wait { $0.comments.contains { $0.hasPrefix("changes after event") } }
                #expect(try await fleet.upload(mqttPolicyYAML).status == 201)
                let (id, _) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"])
                // Group events change no device: no frame.
                _ = try await client.createGroup("unrelated", apiKey: admin)
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/suspend", apiKey: admin).status == 200)
                try await stream.wait { $0.frames.contains { $0.data?.contains("\"suspended\"") == true } }
                #expect(stream.frames.first?.event == "policy")
                let policy = try JSONValue(parsing: Data(try #require(stream.frames.first?.data).utf8))
                #expect(policy["version"]?.numberValue == 1 && policy["source"]?.stringValue == mqttPolicyYAML)
                let devices = stream.frames.filter { $0.event == "device" }
                #expect(devices.allSatisfy { $0.data?.contains(id) == true } && !devices.isEmpty, "\(stream.frames)")
                let last = try JSONValue(parsing: Data(try #require(devices.last?.data).utf8))
                #expect(last["state"]?.stringValue == "suspended" && last["serials"] == .array([]), "on hold: no good certificate")
                let ids = stream.frames.compactMap(\.id)
                #expect(ids == ids.sorted() && Set(ids).count == ids.count, "frames in event order, once each: \(ids)")
            }
        }
    }
}

/// The serial of a PEM certificate as Vouch stores it.
enum CertificateIdentitySerial {
    static func of(_ pem: String) throws -> String {
        Hex.encode(try Certificate(pemEncoded: pem).serialNumber.bytes)
    }
}
