import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import SwiftASN1
import Testing
import VouchAPI
import VouchCore
import VouchKit
import VouchServer
import X509

/// `vouch admin ca rotate-intermediate`: the next intermediate issues, the one before answers for
/// what it issued (CRL at the URL its certificates name, OCSP, mTLS), and both are published, as
/// openssl and curl see it.
@Suite(
    "Intermediate CA rotation",
    .enabled(if: (curlPath != nil && opensslPath != nil) || ProcessInfo.processInfo.environment["CI"] != nil, "needs curl and openssl (CI installs them)")
)
struct IntermediateRotationTests {
    static func extensionText(_ certificate: Certificate, _ oid: ASN1ObjectIdentifier) -> String {
        certificate.extensions.first { $0.oid == oid }.map { String(decoding: $0.value, as: UTF8.self) } ?? ""
    }

    /// A rotation once the server that ran on `dir` has let its database go: a stopped server's
    /// services close it on their own time (waited for, with a deadline).
    static func rotate(_ dir: String, rootKeyFile: String? = nil, logger: Logger) async throws -> IntermediateRotation.Outcome {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            do {
                return try await IntermediateRotation.rotate(dataDirectory: dir, databaseURL: nil, rootKeyFile: rootKeyFile, logger: logger)
            } catch let error as ServerStartupError where error.description.contains("another Vouch server") && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    @Test func afterARotationEachIntermediateAnswersForWhatItIssued() async throws {
        let curl = try #require(curlPath)
        let openssl = try #require(opensslPath)
        try await withDataDirectory { dir in
            let logger = {
                var logger = Logger(label: "vouch-test")
                logger.logLevel = .warning
                return logger
            }()
            let configuration = ServerConfiguration(port: 0, dataDirectory: dir, publicURL: "https://vouch.test", mtlsPort: 0)
            let work = dir + "/interop"
            @Sendable func save(_ name: String, _ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: work + "/" + name)) }

            // Generation 1 issues device A.
            let first = try await buildApplication(configuration: configuration, logger: logger)
            let admin = try String(contentsOfFile: dir + "/admin-api-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let deviceA = DeviceAgent()
            let (idA, firstIntermediate) = try await first.application.test(.live) { client in
                let (id, answer) = try await RevocationTests.enroll(client, admin: admin, device: deviceA)
                try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
                try save("a.pem", try #require(answer["certificate"]?.stringValue))
                try save("a-key.pem", try deviceA.key.pkcs8PEMRepresentation)
                return (id, try await client.call(.get, "/v1/pki/intermediate.pem").text)
            }

            let rotated = try await Self.rotate(dir, logger: logger)
            #expect(rotated.generation == 2 && rotated.previousGeneration == 1)
            #expect(rotated.previousInUse == 1, "A's certificate")
            // Dropping generation 1 now would strand A's certificate: refused, and nothing changes.
            let again = await #expect(throws: ServerStartupError.self) {
                try await IntermediateRotation.rotate(dataDirectory: dir, databaseURL: nil, rootKeyFile: nil, logger: logger)
            }
            #expect(again?.description.contains("issued 1 certificate still valid") == true, "\(String(describing: again))")

            let second = try await buildApplication(configuration: configuration, logger: logger)
            try await second.application.test(.live) { client in
                let port = try #require(try await second.mtlsPort)
                // Generation 2 issues device B, naming its own CRL and certificate.
                let (idB, answerB) = try await RevocationTests.enroll(client, admin: admin, group: "after-rotation")
                let pemB = try #require(answerB["certificate"]?.stringValue)
                try save("b.pem", pemB)
                let certificateB = try Certificate(pemEncoded: pemB)
                #expect(certificateB.issuer.description.contains("Issuing CA 2"), "\(certificateB.issuer)")
                #expect(Self.extensionText(certificateB, [2, 5, 29, 31]).contains("https://vouch.test/v1/pki/issuers/2/crl"))
                #expect(Self.extensionText(certificateB, [1, 3, 6, 1, 5, 5, 7, 1, 1]).contains("https://vouch.test/v1/pki/issuers/2/certificate"))
                let certificateA = try Certificate(pemEncoded: try String(contentsOfFile: work + "/a.pem", encoding: .utf8))
                #expect(Self.extensionText(certificateA, [2, 5, 29, 31]).contains("https://vouch.test/v1/pki/crl"))

                // Both intermediates are published: the PEM list (current first), each by its URL,
                // and the signed trust bundle.
                let intermediates = try await client.call(.get, "/v1/pki/intermediate.pem").text
                try save("intermediates.pem", intermediates)
                let listed = intermediates.components(separatedBy: "-----END CERTIFICATE-----").dropLast().map { $0 + "-----END CERTIFICATE-----" }
                #expect(listed.count == 2)
                let generation1 = try Certificate(pemEncoded: firstIntermediate)
                let generation2 = try Certificate(pemEncoded: try #require(listed.first))
                #expect(try Certificate(pemEncoded: listed[1]) == generation1)
                #expect(try Certificate(derEncoded: Array(try await client.call(.get, "/v1/pki/intermediate.crt").body)) == generation1)
                #expect(try Certificate(derEncoded: Array(try await client.call(.get, "/v1/pki/issuers/2/certificate").body)) == generation2)
                #expect(try Certificate(derEncoded: Array(try await client.call(.get, "/v1/pki/issuers/1/certificate").body)) == generation1)
                expectProblem(try await client.call(.get, "/v1/pki/issuers/3/crl"), 404, "these are: 2, 1")
                expectProblem(try await client.call(.get, "/v1/pki/issuers/x/certificate"), 404, "no issuing CA of generation x")
                // Generation 2 is a CA as generation 1 is: path length 0, certificate and CRL signing,
                // the root's CRL where the authority is now.
                #expect(try generation2.extensions.basicConstraints == generation1.extensions.basicConstraints)
                #expect(try generation2.extensions.keyUsage == generation1.extensions.keyUsage)
                #expect(Self.extensionText(generation2, [2, 5, 29, 31]).contains("https://vouch.test/v1/pki/root.crl"))
                #expect(generation2.notValidAfter <= (try Certificate(pemEncoded: try await client.call(.get, "/v1/pki/ca.pem").text)).notValidAfter)
                let bundle = try claims(of: try await client.call(.get, "/v1/trust-bundle").text)
                #expect(bundle["caCertificates"]?.arrayValue.count == 3, "\(bundle)")

                // openssl checks each device's chain, every link against its issuer's CRL.
                func verify(_ name: String) async throws -> (status: Int32, output: String) {
                    let rootCRL = try await client.call(.get, "/v1/pki/root.crl").body
                    let rootPEM = "-----BEGIN X509 CRL-----\n" + rootCRL.base64EncodedString(options: .lineLength64Characters) + "\n-----END X509 CRL-----\n"
                    try save("crls.pem", try await client.call(.get, "/v1/pki/crl.pem").text + rootPEM)
                    return try await run(openssl, [
                        "verify", "-CAfile", dir + "/pki/root.pem", "-untrusted", work + "/intermediates.pem", "-crl_check_all", "-CRLfile",
                        work + "/crls.pem", work + "/" + name,
                    ])
                }
                for name in ["a.pem", "b.pem"] {
                    let verified = try await verify(name)
                    #expect(verified.status == 0 && verified.output.contains("\(name): OK"), "\(verified.output)")
                }

                // A, issued by generation 1, still authenticates over mTLS.
                try save("ca.pem", try await client.call(.get, "/v1/pki/ca.pem").text)
                let me = try await run(curl, [
                    "-sS", "--cacert", work + "/ca.pem", "--cert", work + "/a.pem", "--key", work + "/a-key.pem", "--max-time", "20",
                    "https://127.0.0.1:\(port)/v1/devices/self",
                ])
                #expect(me.status == 0, "\(me.output)")
                #expect(try JSONValue(parsing: Data(me.output.utf8))["id"]?.stringValue == idA, "\(me.output)")

                // Asked about B as if generation 1 had issued it, generation 1's responder does not know it.
                let root = try await client.call(.get, "/v1/pki/ca.pem").text
                try save("generation1.pem", firstIntermediate)
                try save("chain-generation1.pem", firstIntermediate + root)
                let listening = try #require(client.port)
                let crossed = try await run(openssl, [
                    "ocsp", "-issuer", work + "/generation1.pem", "-serial", "0x" + Hex.encode(Array(certificateB.serialNumber.bytes)),
                    "-url", "http://127.0.0.1:\(listening)/v1/pki/ocsp", "-CAfile", work + "/chain-generation1.pem",
                ])
                #expect(crossed.output.contains("Response verify OK") && crossed.output.contains(": unknown"), "\(crossed.output)")
                #expect(!crossed.output.contains(": good"), "\(crossed.output)")

                // Revoked, each shows in its issuer's CRL and OCSP answer.
                for id in [idA, idB] {
                    #expect(try await client.vouch(.apiKey(admin)).act(.revoke, on: id, reason: "key-compromise").device.state == "revoked")
                }
                let crlA = try RevocationListReader(derEncoded: Array(try await client.call(.get, "/v1/pki/crl").body))
                #expect(crlA.isSigned(by: generation1) && crlA.lists(certificateA))
                let crlB = try RevocationListReader(derEncoded: Array(try await client.call(.get, "/v1/pki/issuers/2/crl").body))
                #expect(crlB.isSigned(by: generation2) && crlB.lists(certificateB))
                try save("generation2.pem", try #require(listed.first))
                try save("chain-generation2.pem", try #require(listed.first) + "\n" + root)
                for (name, issuer) in [("a.pem", "generation1.pem"), ("b.pem", "generation2.pem")] {
                    let verified = try await verify(name)
                    #expect(verified.status != 0 && verified.output.contains("certificate revoked"), "\(verified.output)")
                    let answer = try await run(openssl, [
                        "ocsp", "-issuer", work + "/" + issuer, "-cert", work + "/" + name, "-url", "http://127.0.0.1:\(listening)/v1/pki/ocsp",
                        "-CAfile", work + "/chain-" + issuer,
                    ])
                    #expect(answer.output.contains("Response verify OK"), "\(name): \(answer.output)")
                    #expect(answer.output.contains("\(name): revoked"), "\(name): \(answer.output)")
                }
            }
        }
    }

    @Test func aRotationNeedsTheRootKeyAndTheServerStopped() async throws {
        try await withDataDirectory { dir in
            let logger = {
                var logger = Logger(label: "vouch-test")
                logger.logLevel = .warning
                return logger
            }()
            try await withServer(dataDirectory: dir) { _, _ in
                // The running server holds the SQLite database.
                let busy = await #expect(throws: ServerStartupError.self) {
                    try await IntermediateRotation.rotate(dataDirectory: dir, databaseURL: nil, rootKeyFile: nil, logger: logger)
                }
                #expect(busy?.description.contains("another Vouch server") == true, "\(String(describing: busy))")
            }
            let offline = dir + "-root.key"
            defer { try? FileManager.default.removeItem(atPath: offline) }
            _ = try RootCustody.exportRoot(dataDirectory: dir, to: offline, remove: true, days: 30)
            let missing = await #expect(throws: ServerStartupError.self) {
                try await IntermediateRotation.rotate(dataDirectory: dir, databaseURL: nil, rootKeyFile: nil, logger: logger)
            }
            #expect(missing?.description.contains("give it with --root-key FILE") == true, "\(String(describing: missing))")
            #expect(!FileManager.default.fileExists(atPath: dir + "/pki/intermediate-previous.pem"))
            // With the key brought from where it is kept, it rotates; the server starts on the result.
            let rotated = try await Self.rotate(dir, rootKeyFile: offline, logger: logger)
            #expect(rotated.generation == 2 && rotated.previousInUse == 0)
            try await withServer(dataDirectory: dir) { client, admin in
                let events = try await client.call(.get, "/v1/events?after=0&limit=1000", apiKey: admin).json["events"]?.arrayValue ?? []
                let recorded = events.filter { $0["kind"]?.stringValue == "authority.intermediate-rotated" }
                #expect(recorded.count == 1 && recorded.first?["data"]?["generation"] == 2, "\(recorded)")
                #expect(try await client.call(.get, "/v1/pki/issuers/2/crl").status == 200)
            }
            // Nothing generation 1 issued is valid: the next rotation drops it.
            let third = try await Self.rotate(dir, rootKeyFile: offline, logger: logger)
            #expect(third.generation == 3 && third.previousGeneration == 2)
            try await withServer(dataDirectory: dir) { client, _ in
                let published = try await client.call(.get, "/v1/pki/intermediate.pem").text
                #expect(published.components(separatedBy: "BEGIN CERTIFICATE").count == 3, "generations 3 and 2")
                expectProblem(try await client.call(.get, "/v1/pki/issuers/1/crl"), 404, "these are: 3, 2")
            }
        }
    }
}
