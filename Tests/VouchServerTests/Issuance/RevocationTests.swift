import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwiftASN1
import Testing
import VouchCore
import VouchAPI
import VouchKit
import VouchServer
import VouchTesting
import X509

@Suite("Lifecycle and revocation")
struct RevocationTests {
    /// Enrolls a device; returns (device id, answer).
    static func enroll(
        _ client: any TestClientProtocol, admin: String, group: String = "fleet", device: DeviceAgent = DeviceAgent()
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

                #expect(try await client.vouch(.apiKey(admin)).act(.revoke, on: id, reason: "key-compromise").device.state == "revoked")

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

                // CRL: signed by the issuing CA and listing the serial (openssl reads it too, see InteropTests).
                let intermediate = try Certificate(pemEncoded: try await client.call(.get, "/v1/pki/intermediate.pem").text)
                #expect(try await Self.crl(client, issuer: intermediate).lists(certificate))

                // OCSP: the responder answers revoked, with the reason.
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

    /// The CRL, parsed, its signature checked against `issuer`, current now.
    static func crl(_ client: any TestClientProtocol, issuer: Certificate) async throws -> RevocationListReader {
        let answer = try await client.call(.get, "/v1/pki/crl")
        #expect(answer.status == 200 && answer.headers[.contentType] == "application/pkix-crl")
        let crl = try RevocationListReader(derEncoded: Array(answer.body))
        #expect(crl.isSigned(by: issuer), "the CRL's signature does not verify with the issuing CA")
        #expect(crl.thisUpdate <= Date().addingTimeInterval(60) && (crl.nextUpdate ?? .distantPast) > Date())
        return crl
    }

    /// The OCSP status of `certificate`, from a response whose single answer names its serial.
    static func ocspStatus(_ client: any TestClientProtocol, of certificate: Certificate, issuer: Certificate) async throws -> OCSPCertificateStatus? {
        let answer = try await client.call(
            .post, "/v1/pki/ocsp", headers: [.contentType: "application/ocsp-request"], body: try OCSPClient.request(serial: certificate.serialNumber, issuer: issuer))
        #expect(answer.status == 200 && answer.headers[.contentType] == "application/ocsp-response")
        let statuses = try OCSPClient.unverifiedStatuses(in: Array(answer.body))
        #expect(statuses.count == 1 && statuses.first?.serial == certificate.serialNumber)
        return statuses.first?.status
    }

    /// A suspension holds the certificate (CRL reason certificateHold, OCSP revoked with that
    /// reason) and a reinstatement lifts the hold in both; a revocation after a hold revokes for good.
    @Test func suspendHoldsAndReinstateLiftsInTheCRLAndOCSP() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let (id, answer) = try await Self.enroll(client, admin: admin)
                let certificate = try Certificate(pemEncoded: try #require(answer["certificate"]?.stringValue))
                let intermediate = try Certificate(pemEncoded: try await client.call(.get, "/v1/pki/intermediate.pem").text)
                #expect(!(try await Self.crl(client, issuer: intermediate).lists(certificate)))
                guard case .good = try await Self.ocspStatus(client, of: certificate, issuer: intermediate) else {
                    Issue.record("a new certificate is not good")
                    return
                }
                #expect(try await client.vouch(.apiKey(admin)).act(.suspend, on: id).device.state == "suspended")
                #expect(try await Self.crl(client, issuer: intermediate).lists(certificate))
                guard case .revoked(_, let held) = try await Self.ocspStatus(client, of: certificate, issuer: intermediate) else {
                    Issue.record("a suspended device's certificate is not on hold in OCSP")
                    return
                }
                #expect(held == .certificateHold)
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/reinstate", apiKey: admin).status == 200)
                #expect(!(try await Self.crl(client, issuer: intermediate).lists(certificate)), "the hold is lifted from the CRL")
                guard case .good = try await Self.ocspStatus(client, of: certificate, issuer: intermediate) else {
                    Issue.record("a reinstated device's certificate is not good in OCSP")
                    return
                }
                #expect(try await client.vouch(.apiKey(admin)).act(.suspend, on: id).device.state == "suspended")
                #expect(try await client.vouch(.apiKey(admin)).act(.revoke, on: id, reason: "key-compromise").device.state == "revoked")
                guard case .revoked(_, let reason) = try await Self.ocspStatus(client, of: certificate, issuer: intermediate) else {
                    Issue.record("a revoked device's certificate is not revoked in OCSP")
                    return
                }
                #expect(reason == .keyCompromise, "the hold became the revocation")
                #expect(try await Self.crl(client, issuer: intermediate).lists(certificate))
            }
        }
    }

    /// OCSP answers `unknown` for a serial this CA never issued, and for a certificate of another CA.
    @Test func ocspAnswersUnknownForWhatItDidNotIssue() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let (_, answer) = try await Self.enroll(client, admin: admin)
                let issued = try Certificate(pemEncoded: try #require(answer["certificate"]?.stringValue))
                let intermediate = try Certificate(pemEncoded: try await client.call(.get, "/v1/pki/intermediate.pem").text)
                // Same issuer, a serial never issued.
                let never = try OCSPClient.request(serial: Certificate.SerialNumber(bytes: [0x7f, 0x01, 0x02, 0x03]), issuer: intermediate)
                let unissued = try OCSPClient.unverifiedStatuses(in: Array(try await client.call(
                    .post, "/v1/pki/ocsp", headers: [.contentType: "application/ocsp-request"], body: never).body))
                guard case .unknown = unissued.first?.status else {
                    Issue.record("a serial never issued is not unknown: \(String(describing: unissued.first?.status))")
                    return
                }
                // Another CA's certificate with the same serial as one issued here.
                let other = try FactoryCA(name: "Another CA")
                guard case .unknown = try await Self.ocspStatus(client, of: issued, issuer: other.root) else {
                    Issue.record("another CA's certificate is not unknown")
                    return
                }
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
            let refusal = await #expect(throws: ServerStartupError.self) {
                try await withServer(dataDirectory: dir) { _, _ in }
            }
            #expect(refusal?.description.contains("has mode 755; it must be readable by its owner only (chmod 700") == true, "\(String(describing: refusal))")
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir)
            try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/something-else"))
            do {
                try await withServer(dataDirectory: dir) { _, _ in }
                Issue.record("a foreign directory was accepted")
            } catch let error as ServerStartupError {
                #expect(error.description.contains("not a Vouch data directory"), "\(error)")
            }
        }
    }
}
