import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VouchAPI
import VouchCore
import VouchKit

/// openssl reads what the authority writes: it verifies an issued certificate against the CRL and
/// asks the live OCSP responder, before and after revocation.
@Suite("openssl interop", .enabled(if: opensslPath != nil || ProcessInfo.processInfo.environment["CI"] != nil, "needs openssl (CI installs it)"))
struct InteropTests {
    @Test func opensslVerifyAndOCSPAcceptThenRefuseARevokedCertificate() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live, publicURL: nil) { client, admin in
                let openssl = try #require(opensslPath)
                let listening = try #require(client.port)
                let (id, answer) = try await RevocationTests.enroll(client, admin: admin)
                let work = dir + "/interop"
                try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
                func save(_ name: String, _ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: work + "/" + name)) }
                try save("cert.pem", try #require(answer["certificate"]?.stringValue))
                try save("ca.pem", try await client.call(.get, "/v1/pki/ca.pem").text)
                try save("intermediate.pem", try await client.call(.get, "/v1/pki/intermediate.pem").text)
                try save("chain.pem", try #require(answer["chain"]?.stringValue))

                // Every certificate of the chain is checked against its issuer's CRL: the root publishes one too.
                func verify() async throws -> (Int32, String) {
                    let rootCRL = try await client.call(.get, "/v1/pki/root.crl")
                    #expect(rootCRL.headers[.contentType] == "application/pkix-crl")
                    let rootPEM = "-----BEGIN X509 CRL-----\n" + rootCRL.body.base64EncodedString(options: .lineLength64Characters) + "\n-----END X509 CRL-----\n"
                    try save("crl.pem", try await client.call(.get, "/v1/pki/crl.pem").text + rootPEM)
                    return try await run(openssl, ["verify", "-CAfile", work + "/ca.pem", "-untrusted", work + "/intermediate.pem", "-crl_check_all", "-CRLfile", work + "/crl.pem", work + "/cert.pem"])
                }
                func ocsp() async throws -> (Int32, String) {
                    try await run(openssl, ["ocsp", "-issuer", work + "/intermediate.pem", "-cert", work + "/cert.pem", "-url", "http://127.0.0.1:\(listening)/v1/pki/ocsp", "-CAfile", work + "/chain.pem"])
                }

                let before = try await verify()
                #expect(before.0 == 0, "\(before.1)")
                let ocspBefore = try await ocsp()
                #expect(ocspBefore.1.contains("Response verify OK"), "\(ocspBefore.1)")
                #expect(ocspBefore.1.contains("cert.pem: good"), "\(ocspBefore.1)")

                #expect(try await client.vouch(.apiKey(admin)).act(.revoke, on: id, reason: "key-compromise").device.state == "revoked")

                let after = try await verify()
                #expect(after.0 != 0)
                #expect(after.1.contains("certificate revoked"), "\(after.1)")
                let ocspAfter = try await ocsp()
                #expect(ocspAfter.1.contains("Response verify OK"), "\(ocspAfter.1)")
                #expect(ocspAfter.1.contains("cert.pem: revoked"), "\(ocspAfter.1)")
                #expect(ocspAfter.1.contains("keyCompromise"), "\(ocspAfter.1)")
            }
        }
    }
}
