import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwiftASN1
import Testing
import VouchCore
import VouchKit
import X509

@Suite("Lifecycle and revocation")
struct RevocationTests {
    /// Enrolls a device; returns (device id, answer).
    static func enroll(
        _ client: any TestClientProtocol, admin: String, group: String = "fleet", device: TestDevice = TestDevice()
    ) async throws -> (String, JSONValue) {
        let token = try #require(try await client.createGroup(group, apiKey: admin, extra: ["unlimitedTokenUses": true]))
        let result = try await client.call(.post, "/v1/enrollments", json: try await device.enrollmentBody(nonce: try await client.nonce(), group: group, token: token))
        #expect(result.status == 201, "\(result.text)")
        return (try #require(result.json["deviceId"]?.stringValue), result.json)
    }

    @Test func illegalTransitionsAnswer409NamingTheLegalOnes() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let (id, _) = try await Self.enroll(client, admin: admin)
                let refused = try await client.call(.post, "/v1/admin/devices/\(id)/reinstate", apiKey: admin)
                #expect(refused.status == 409)
                #expect(refused.json["legalActions"]?.stringValue == "suspend quarantine revoke decommission")
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/suspend", apiKey: admin).json["device"]?["state"]?.stringValue == "suspended")
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/reinstate", apiKey: admin).json["device"]?["state"]?.stringValue == "active")
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/decommission", apiKey: admin).json["device"]?["state"]?.stringValue == "decommissioned")
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/revoke", apiKey: admin).status == 409)
                #expect(try await client.call(.post, "/v1/admin/devices/nope/revoke", apiKey: admin).status == 404)
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/revoke").status == 401)
            }
        }
    }

    @Test func revocationShowsInCRLOCSPAndStatusListAtOnce() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let (id, answer) = try await Self.enroll(client, admin: admin)
                let identity = try #require(answer["identityCredential"]?.stringValue)
                let certificate = try Certificate(pemEncoded: try #require(answer["certificate"]?.stringValue))

                let revoked = try await client.call(.post, "/v1/admin/devices/\(id)/revoke", json: ["reason": "key-compromise"], apiKey: admin)
                #expect(revoked.status == 200, "\(revoked.text)")

                // Status list: the credential now fails verification as revoked.
                let bundleToken = try #require(answer["trustBundle"]?.stringValue)
                let contents = try CompactJWS(parsing: bundleToken).decodePayload(as: TrustBundle.Contents.self)
                let bundle = try await TrustBundle(verifying: bundleToken, authority: try DID(contents.authority))
                let listToken = try await client.call(.get, "/v1/status-lists/revocation-0").text
                let list = try await StatusListCredential.verify(listToken, trust: bundle)
                let result = await CredentialVerifier.standard(trust: bundle, statusLists: [list]).verify(identity)
                guard case .invalid(let failures) = result else {
                    Issue.record("a revoked credential verified")
                    return
                }
                #expect(failures.contains { $0.reason.contains("revoked") })

                // CRL: the serial is listed (checked by openssl when it is installed, see InteropTests).
                let crl = try await client.call(.get, "/v1/pki/crl")
                #expect(crl.headers[.contentType] == "application/pkix-crl")
                let serial = Array(certificate.serialNumber.bytes)
                #expect(Array(crl.body).firstRange(of: serial) != nil)

                // OCSP: the responder answers revoked, with the reason.
                let intermediate = try Certificate(pemEncoded: try await client.call(.get, "/v1/pki/intermediate.pem").text)
                let ocsp = try await client.call(
                    .post, "/v1/pki/ocsp", headers: [.contentType: "application/ocsp-request"],
                    body: try OCSPClient.request(serial: certificate.serialNumber, issuer: intermediate, nonce: [1, 2, 3, 4, 5, 6, 7, 8]))
                #expect(ocsp.headers[.contentType] == "application/ocsp-response")
                let statuses = try OCSPClient.unverifiedStatuses(in: Array(ocsp.body))
                #expect(statuses.count == 1)
                #expect(statuses.first?.serial == certificate.serialNumber)
                guard case .revoked(_, let reason) = statuses.first?.status else {
                    Issue.record("OCSP did not answer revoked: \(String(describing: statuses.first?.status))")
                    return
                }
                #expect(reason == .keyCompromise)

                // Events: every change is there, in a gap-free sequence.
                let events = try await client.call(.get, "/v1/events?after=0", apiKey: admin).json["events"]?.arrayValue ?? []
                let sequence: [Int] = events.compactMap { $0["seq"]?.numberValue.map { Int($0) } }
                #expect(sequence == Array(1...sequence.count))
                let kinds: [String] = events.map { $0["kind"]?.stringValue ?? "" }
                #expect(kinds.contains("device.revoked"))
            }
        }
    }

    @Test func aRestartOnTheSameDataDirectoryKeepsEverything() async throws {
        try await withDataDirectory { dir in
            let (id, root) = try await withServer(dataDirectory: dir) { client, admin in
                let (id, _) = try await Self.enroll(client, admin: admin)
                return (id, try await client.call(.get, "/v1/pki/ca.pem").text)
            }
            let adminKey = try String(contentsOfFile: dir + "/admin-api-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            try await withServer(dataDirectory: dir) { client, admin in
                #expect(admin == adminKey)
                #expect(try await client.call(.get, "/v1/pki/ca.pem").text == root)
                let device = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin)
                #expect(device.json["device"]?["state"]?.stringValue == "active")
                #expect(device.json["certificates"]?.arrayValue.count == 1)
            }
        }
    }

    @Test func aDataDirectoryOfTheWrongShapeOrModeIsRefused() async throws {
        try await withDataDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            await #expect(throws: (any Error).self) {
                try await withServer(dataDirectory: dir) { _, _ in }
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir)
            try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/something-else"))
            do {
                try await withServer(dataDirectory: dir) { _, _ in }
                Issue.record("a foreign directory was accepted")
            } catch {
                #expect("\(error)".contains("not a Vouch data directory"))
            }
        }
    }
}
