import Foundation
import SwiftASN1
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchCore
import VouchKit
import VouchServer
import X509

/// The root CA key can live offline: exported, it signs a long-lived root CRL, and the server runs
/// without it, serving that CRL (which openssl takes in a full chain check) and taking up the next one
/// without a restart.
@Suite("Root CA key kept offline")
struct RootCustodyTests {
    static func rootCRL(_ client: any TestClientProtocol, root: Certificate) async throws -> (der: [UInt8], list: RevocationListReader) {
        let answer = try await client.call(.get, "/v1/pki/root.crl")
        #expect(answer.status == 200)
        #expect(answer.headers[.contentType] == "application/pkix-crl")
        let list = try RevocationListReader(derEncoded: Array(answer.body))
        #expect(list.isSigned(by: root))
        return (Array(answer.body), list)
    }

    @Test func theServerRunsWithoutTheRootKeyOnARootCRLSignedOfflineAndTakesUpTheNext() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { _, _ in }
            let original = try #require(FileManager.default.contents(atPath: dir + "/keys/root.key"))
            let root = try Certificate(pemEncoded: String(contentsOfFile: dir + "/pki/root.pem", encoding: .utf8))
            let offline = dir + "-root.key"
            defer { try? FileManager.default.removeItem(atPath: offline) }

            let now = Date()
            let exported = try RootCustody.exportRoot(dataDirectory: dir, to: offline, remove: true, days: 200, now: now)
            #expect(FileManager.default.contents(atPath: offline) == original)
            #expect((try FileManager.default.attributesOfItem(atPath: offline)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            #expect(!FileManager.default.fileExists(atPath: dir + "/keys/root.key"))
            #expect(abs(exported.nextUpdate.timeIntervalSince(now) - 200 * 86_400) < 2)

            try await withServer(dataDirectory: dir) { client, admin in
                let served = try await Self.rootCRL(client, root: root)
                #expect(served.der == Array(try #require(FileManager.default.contents(atPath: exported.crlPath))))
                #expect(abs((served.list.nextUpdate ?? .distantPast).timeIntervalSince(now) - 200 * 86_400) < 2)

                // openssl checks every certificate of a device's chain against its issuer's CRL, the root's included.
                if let openssl = opensslPath {
                    let (_, answer) = try await RevocationTests.enroll(client, admin: admin)
                    let work = dir + "/interop"
                    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
                    func save(_ name: String, _ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: work + "/" + name)) }
                    try save("cert.pem", try #require(answer["certificate"]?.stringValue))
                    try save("intermediate.pem", try await client.call(.get, "/v1/pki/intermediate.pem").text)
                    let rootPEM = "-----BEGIN X509 CRL-----\n" + Data(served.der).base64EncodedString(options: .lineLength64Characters) + "\n-----END X509 CRL-----\n"
                    try save("crl.pem", try await client.call(.get, "/v1/pki/crl.pem").text + rootPEM)
                    let verified = try await run(openssl, [
                        "verify", "-CAfile", dir + "/pki/root.pem", "-untrusted", work + "/intermediate.pem", "-crl_check_all", "-CRLfile", work + "/crl.pem",
                        work + "/cert.pem",
                    ])
                    #expect(verified.status == 0, "\(verified.output)")
                    #expect(verified.output.contains("cert.pem: OK"), "\(verified.output)")
                }

                // The next one, signed where the key is kept, is served from the next request on.
                let next = try RootCustody.signRootCRL(dataDirectory: dir, keyFile: offline, days: 30, now: now.addingTimeInterval(60))
                let renewed = try await Self.rootCRL(client, root: root)
                #expect(renewed.der != served.der)
                #expect(renewed.der == Array(try #require(FileManager.default.contents(atPath: next.crlPath))))
                #expect(abs((renewed.list.nextUpdate ?? .distantPast).timeIntervalSince(now) - (60 + 30 * 86_400)) < 2)

                #expect(try #require(renewed.list.number) > (try #require(served.list.number)))

                // A damaged file is not taken up, nor an older CRL put back: the last good one is still served.
                try Data("not a CRL".utf8).write(to: URL(fileURLWithPath: next.crlPath))
                #expect(try await Self.rootCRL(client, root: root).der == renewed.der)
                try Data(served.der).write(to: URL(fileURLWithPath: next.crlPath))
                #expect(try await Self.rootCRL(client, root: root).der == renewed.der)
                try Data(renewed.der).write(to: URL(fileURLWithPath: next.crlPath))
            }

            // Signed again on a machine whose clock is behind: still numbered above the one it replaces.
            let behind = try RootCustody.signRootCRL(dataDirectory: dir, keyFile: offline, days: 30, now: now.addingTimeInterval(-86_400))
            let replaced = try RevocationListReader(derEncoded: Array(try #require(FileManager.default.contents(atPath: behind.crlPath))))
            let offlineNumber = try #require(replaced.number)
            #expect(offlineNumber > Int(now.timeIntervalSince1970) + 60)

            // The key back in keys/ with that CRL still valid: it is served; expired, the server's own
            // is numbered above it.
            try FileManager.default.copyItem(atPath: offline, toPath: dir + "/keys/root.key")
            try await withServer(dataDirectory: dir, clock: { now.addingTimeInterval(40 * 86_400) }) { client, _, _ in
                let online = try await Self.rootCRL(client, root: root)
                #expect(try #require(online.list.number) > offlineNumber)
                #expect(((online.list.nextUpdate ?? .distantPast).timeIntervalSince(online.list.thisUpdate)) / 86_400 == 7)
            }
            try FileManager.default.removeItem(atPath: dir + "/keys/root.key")

            // With neither the key nor a root CRL, the start is refused and says what to do.
            try FileManager.default.removeItem(atPath: dir + "/pki/root.crl")
            let refused = await #expect(throws: ServerStartupError.self) {
                try await withServer(dataDirectory: dir) { _, _ in }
            }
            #expect(refused?.description.contains("vouch admin ca sign-root-crl") == true, "\(String(describing: refused))")

            // The key back in keys/: the server signs its own again.
            try FileManager.default.copyItem(atPath: offline, toPath: dir + "/keys/root.key")
            try await withServer(dataDirectory: dir) { client, _ in
                let online = try await Self.rootCRL(client, root: root)
                let days = ((online.list.nextUpdate ?? .distantPast).timeIntervalSince(online.list.thisUpdate)) / 86_400
                #expect(days == 7)
            }
        }
    }

    @Test func offlineOperationsRefuseWhatWouldLoseOrMisuseTheKey() async throws {
        try await withDataDirectory { dir in
            try await withDataDirectory { other in
                try await withServer(dataDirectory: dir) { _, _ in }
                try await withServer(dataDirectory: other) { _, _ in }
                let out = dir + "-export.key"
                defer { try? FileManager.default.removeItem(atPath: out) }

                func refusal(_ body: () throws -> Void) -> String {
                    (#expect(throws: ServerStartupError.self) { try body() })?.description ?? ""
                }
                #expect(refusal { _ = try RootCustody.exportRoot(dataDirectory: dir, to: out, remove: true, days: 0) }.contains("between 1 and 3650 days"))
                #expect(refusal { _ = try RootCustody.exportRoot(dataDirectory: dir, to: out, remove: true, days: 4000) }.contains("between 1 and 3650 days"))
                #expect(refusal { _ = try RootCustody.exportRoot(dataDirectory: dir, to: dir + "/pki/root.key", remove: true, days: 30) }.contains("inside the data directory"))
                // An existing file is never overwritten, and the key stays where it was.
                try Data("keep me".utf8).write(to: URL(fileURLWithPath: out))
                #expect(refusal { _ = try RootCustody.exportRoot(dataDirectory: dir, to: out, remove: true, days: 30) }.contains("already exists"))
                #expect(FileManager.default.fileExists(atPath: dir + "/keys/root.key"))
                #expect(try String(contentsOfFile: out, encoding: .utf8) == "keep me")
                try FileManager.default.removeItem(atPath: out)

                _ = try RootCustody.exportRoot(dataDirectory: dir, to: out, remove: true, days: 30)
                #expect(refusal { _ = try RootCustody.exportRoot(dataDirectory: dir, to: out + "2", remove: true, days: 30) }.contains("kept offline already"))
                // Another authority's root key signs nothing here.
                #expect(refusal { _ = try RootCustody.signRootCRL(dataDirectory: dir, keyFile: other + "/keys/root.key", days: 30) }.contains("is not the key of this authority's root CA"))
                // A key file others can read is refused.
                chmod(out, 0o644)
                #expect(refusal { _ = try RootCustody.signRootCRL(dataDirectory: dir, keyFile: out, days: 30) }.contains("chmod 600"))
            }
        }
    }
}
