import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwiftASN1
import Testing
import VouchAPI
import VouchCore
import VouchKit
import VouchTesting
import X509

/// CRL, OCSP and status lists follow revocations, not the certificates table: an enrollment leaves
/// them as they are, a revocation shows on the very next request, and OCSP answers are kept between
/// requests with the validators HTTP caches use.
@Suite("Revocation state")
struct RevocationStateTests {
    /// Enrolls a device into group "fleet" with its claim `token`; returns its id and certificate.
    static func enroll(_ client: any TestClientProtocol, token: String) async throws -> (String, Certificate) {
        let device = DeviceAgent()
        let result = try await client.call(.post, "/v1/enrollments", json: try await device.enrollmentBody(nonce: try await client.nonce(), group: "fleet", token: token))
        #expect(result.status == 201, "\(result.text)")
        return (try #require(result.json["deviceId"]?.stringValue), try Certificate(pemEncoded: try #require(result.json["certificate"]?.stringValue)))
    }

    static func fleet(_ client: any TestClientProtocol, admin: String) async throws -> String {
        try #require(try await client.createGroup("fleet", apiKey: admin, extra: ["unlimitedTokenUses": true]))
    }

    static func ocspGET(_ client: any TestClientProtocol, _ request: [UInt8], ifNoneMatch: String? = nil) async throws -> HTTPResult {
        let path = Data(request).base64EncodedString().addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        var headers: HTTPFields = [:]
        if let ifNoneMatch { headers[.ifNoneMatch] = ifNoneMatch }
        return try await client.call(.get, "/v1/pki/ocsp/\(path)", headers: headers)
    }

    @Test func ocspAnswersAreKeptUntilTheStatusChangesAndCarryHTTPValidators() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let (id, certificate) = try await Self.enroll(client, token: try await Self.fleet(client, admin: admin))
                let intermediate = try Certificate(pemEncoded: try await client.call(.get, "/v1/pki/intermediate.pem").text)
                let request = try OCSPClient.request(serial: certificate.serialNumber, issuer: intermediate)

                let first = try await Self.ocspGET(client, request)
                #expect(first.status == 200 && first.headers[.contentType] == "application/ocsp-response")
                guard case .good = try OCSPClient.unverifiedStatuses(in: Array(first.body)).first?.status else {
                    Issue.record("a new certificate is not good")
                    return
                }
                let etag = try #require(first.headers[.eTag])
                #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && etag.count == 34)
                let cacheControl = try #require(first.headers[.cacheControl])
                let maxAge = try #require(cacheControl.split(separator: ",").first { $0.hasPrefix("max-age=") }.flatMap { Int($0.dropFirst(8)) })
                #expect((1...60).contains(maxAge) && cacheControl.contains("public") && cacheControl.contains("must-revalidate"))
                #expect(first.headers[.lastModified]?.hasSuffix(" GMT") == true && first.headers[.expires]?.hasSuffix(" GMT") == true)

                // The same request: the same signed answer (ECDSA signatures differ each time: the bytes are the kept ones).
                let second = try await Self.ocspGET(client, request)
                #expect(second.status == 200 && Array(second.body) == Array(first.body) && second.headers[.eTag] == etag)
                let revalidated = try await Self.ocspGET(client, request, ifNoneMatch: etag)
                #expect(revalidated.status == 304 && revalidated.body.isEmpty && revalidated.headers[.eTag] == etag)
                // POST answers are not for caches.
                let posted = try await client.call(.post, "/v1/pki/ocsp", headers: [.contentType: "application/ocsp-request"], body: request)
                #expect(posted.status == 200 && posted.headers[.cacheControl] == "no-store")

                // Revoked: the very next request answers revoked, and the old validator no longer matches.
                #expect(try await client.vouch(.apiKey(admin)).act(.revoke, on: id, reason: "key-compromise").device.state == "revoked")
                let after = try await Self.ocspGET(client, request, ifNoneMatch: etag)
                #expect(after.status == 200 && after.headers[.eTag] != etag)
                guard case .revoked(_, let reason) = try OCSPClient.unverifiedStatuses(in: Array(after.body)).first?.status else {
                    Issue.record("OCSP did not answer revoked on the request after the revocation")
                    return
                }
                #expect(reason == .keyCompromise)

                // Escapes decoded as RFC 3986 says, or refused with a reason; unescaped base64 works too.
                let plain = try await client.call(.get, "/v1/pki/ocsp/" + Data(request).base64EncodedString())
                #expect(plain.status == 200 && plain.headers[.eTag] == after.headers[.eTag])
                for malformed in ["%4", "%zz", "MAA%3", "%C3%28", "?x", "%3D%3D"] {
                    let refused = try await client.call(.get, "/v1/pki/ocsp/" + malformed)
                    #expect(refused.status == 400, "\(malformed): \(refused.status)")
                    #expect(refused.json["detail"]?.stringValue?.contains("URL-encoded base64 of a DER OCSP request") == true)
                }

                // A request with a nonce is answered afresh each time, its nonce echoed.
                let withNonce = try OCSPClient.request(serial: certificate.serialNumber, issuer: intermediate, nonce: Array(repeating: 7, count: 16))
                let once = try await Self.ocspGET(client, withNonce)
                let twice = try await Self.ocspGET(client, withNonce)
                #expect(once.status == 200 && twice.status == 200 && Array(once.body) != Array(twice.body))
                #expect(once.headers[.cacheControl] == "no-store" && once.headers[.eTag] == nil)
            }
        }
    }

    @Test func anEnrollmentLeavesTheCRLAsItIsAndARevocationMakesANewOne() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let intermediate = try Certificate(pemEncoded: try await client.call(.get, "/v1/pki/intermediate.pem").text)
                let token = try await Self.fleet(client, admin: admin)
                let (id, certificate) = try await Self.enroll(client, token: token)
                let before = try await client.call(.get, "/v1/pki/crl")
                let listBefore = try await client.call(.get, "/v1/status-lists/revocation-0").text
                // Enrollments change neither the CRL nor the status list: the same signed bytes come back.
                for _ in 0..<3 { _ = try await Self.enroll(client, token: token) }
                #expect(Array(try await client.call(.get, "/v1/pki/crl").body) == Array(before.body))
                #expect(try await client.call(.get, "/v1/status-lists/revocation-0").text == listBefore)

                #expect(try await client.vouch(.apiKey(admin)).act(.revoke, on: id, reason: "key-compromise").device.state == "revoked")
                let crl = try await RevocationTests.crl(client, issuer: intermediate)
                #expect(crl.lists(certificate))
                #expect(crl.revokedSerials.count == 1)
                #expect(try await client.call(.get, "/v1/status-lists/revocation-0").text != listBefore)
            }
        }
    }

    /// Revocations racing OCSP and CRL requests (each of which may catch the state up): once the
    /// revocations are done, with nothing committed after them, every one shows in OCSP and the CRL.
    @Test func revocationsRacingReadsAreNeverLost() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let token = try await Self.fleet(client, admin: admin)
                var devices: [(String, Certificate)] = []
                for _ in 0..<12 { devices.append(try await Self.enroll(client, token: token)) }
                let intermediate = try Certificate(pemEncoded: try await client.call(.get, "/v1/pki/intermediate.pem").text)
                let requests = try devices.map { try OCSPClient.request(serial: $0.1.serialNumber, issuer: intermediate) }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (id, _) in devices {
                        group.addTask {
                            let state = try await client.vouch(.apiKey(admin)).act(.revoke, on: id, reason: "key-compromise").device.state
                            #expect(state == "revoked")
                        }
                    }
                    for reader in 0..<6 {
                        group.addTask {
                            for round in 0..<10 {
                                _ = try await Self.ocspGET(client, requests[(reader + round) % requests.count])
                                _ = try await client.call(.get, "/v1/pki/crl")
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let crl = try await RevocationTests.crl(client, issuer: intermediate)
                for (index, (id, certificate)) in devices.enumerated() {
                    #expect(crl.lists(certificate), "the CRL lacks \(id)")
                    let answer = try await Self.ocspGET(client, requests[index])
                    guard case .revoked = try OCSPClient.unverifiedStatuses(in: Array(answer.body)).first?.status else {
                        Issue.record("OCSP does not answer revoked for \(id)")
                        continue
                    }
                }
            }
        }
    }

    /// A restart loads what is revoked from the revoked rows and goes on following generations.
    @Test func aRestartStartsFromWhatIsRevoked() async throws {
        try await withDataDirectory { dir in
            let (held, revoked) = try await withServer(dataDirectory: dir) { client, admin -> (Certificate, Certificate) in
                let token = try await Self.fleet(client, admin: admin)
                let (first, held) = try await Self.enroll(client, token: token)
                let (second, revoked) = try await Self.enroll(client, token: token)
                #expect(try await client.vouch(.apiKey(admin)).act(.suspend, on: first).device.state == "suspended")
                #expect(try await client.vouch(.apiKey(admin)).act(.revoke, on: second, reason: "key-compromise").device.state == "revoked")
                return (held, revoked)
            }
            try await withServer(dataDirectory: dir) { client, admin in
                let intermediate = try Certificate(pemEncoded: try await client.call(.get, "/v1/pki/intermediate.pem").text)
                let crl = try await RevocationTests.crl(client, issuer: intermediate)
                #expect(crl.lists(held) && crl.lists(revoked) && crl.revokedSerials.count == 2)
                guard case .revoked(_, .certificateHold) = try await RevocationTests.ocspStatus(client, of: held, issuer: intermediate) else {
                    Issue.record("the held certificate is not on hold after a restart")
                    return
                }
                // The hold lifted after the restart: followed from the generation loaded.
                let suspended = try await client.vouch(.apiKey(admin)).devices(state: "suspended")
                let id = try #require(suspended.devices.first?.id)
                #expect(try await client.vouch(.apiKey(admin)).act(.reinstate, on: id).device.state == "active")
                let after = try await RevocationTests.crl(client, issuer: intermediate)
                #expect(!after.lists(held) && after.lists(revoked))
                guard case .good = try await RevocationTests.ocspStatus(client, of: held, issuer: intermediate) else {
                    Issue.record("the lifted hold is not good in OCSP")
                    return
                }
            }
        }
    }
}
