import Foundation
import Testing
import VouchKit
import VouchTesting

/// The README's quickstart with the real executables: `vouch serve` in its own process, then the
/// admin and device commands against it.
@Suite("vouch serve and the device agent", .timeLimit(.minutes(3)))
struct ServeAndDeviceCommandTests {
    @Test func enrollAuthenticateRenewPresentRotateAndRevoke() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            try await vouch.withServer { server, admin in
                // Refused input says why and exits non-zero.
                try await vouch.run("admin", "group", "list", "--server", server, "--api-key", "vk_wrong").expectRefusedByServer(mentioning: "API key")
                try await vouch.run("device", "token", "--dir", "nowhere").expectUsageError(mentioning: "no device identity")

                let group = try await vouch.run(
                    "admin", "group", "create", "--server", server, "--api-key", admin, "--name", "line-3", "--require-attribute", "model")
                group.expectExit(0)
                let token = try #require(group.lastOutputLine)
                #expect(token.hasPrefix("ct_"), "\(group)")

                let missing = try await vouch.run("device", "enroll", "--server", server, "--group", "line-3", "--token", token, "--dir", "refused")
                missing.expectRefusedByServer(mentioning: "model")
                #expect(!vouch.exists("refused"), "a refused enrollment left its directory behind")

                let enrolled = try await vouch.run(
                    "device", "enroll", "--server", server, "--group", "line-3", "--token", token, "--attribute", "model=X1", "--dir", "dev")
                enrolled.expectExit(0)
                let id = try #require(enrolled.lastOutputLine)
                #expect(id.hasPrefix("dev_"), "\(enrolled)")
                #expect(try vouch.permissions("dev/key.pem") == 0o600)
                #expect(try vouch.permissions("dev/key.jwk") == 0o600)
                for file in ["cert.pem", "chain.pem", "identity.vc.jwt", "trust-bundle.json", "device-id", "server-url"] {
                    #expect(vouch.exists("dev/" + file), "dev/\(file) is missing")
                }

                let accessToken = try await vouch.run("device", "token", "--dir", "dev")
                accessToken.expectExit(0)
                let claims = try JSONValue(parsing: try CompactJWS(parsing: try #require(accessToken.lastOutputLine)).payload)
                #expect(claims["sub"]?.stringValue == id)

                let firstCertificate = try vouch.text("dev/cert.pem")
                try await vouch.run("device", "renew", "--dir", "dev").expectExit(0)
                #expect(try vouch.text("dev/cert.pem") != firstCertificate)

                // A peer verifies the device's presentation offline with the trust bundle.
                let presented = try await vouch.run("device", "present", "--dir", "dev", "--nonce", "n-1", "--audience", "did:web:gateway.example")
                presented.expectExit(0)
                let presentation = try #require(presented.lastOutputLine)
                let verified = try await vouch.run(
                    "presentation", "verify", presentation, "--nonce", "n-1", "--audience", "did:web:gateway.example", "--trust-bundle", "dev/trust-bundle.json")
                verified.expectExit(0)
                try await vouch.run(
                    "presentation", "verify", presentation, "--nonce", "n-2", "--audience", "did:web:gateway.example", "--trust-bundle", "dev/trust-bundle.json"
                ).expectVerificationFailure(mentioning: "nonce")

                let before = try await vouch.run("admin", "device", "show", id, "--server", server, "--api-key", admin, "--json").jsonObject()
                let oldDID = try #require((before["device"] as? [String: Any])?["did"] as? String)
                try vouch.write(try vouch.data("dev/key.jwk"), to: "old-key.jwk")
                let rotated = try await vouch.run("device", "rotate", "--dir", "dev")
                rotated.expectExit(0)
                let newDID = try #require(rotated.lastOutputLine)
                #expect(newDID.hasPrefix("did:key:") && newDID != oldDID)
                #expect(!vouch.exists("dev/key.jwk.new"))
                #expect(try vouch.permissions("dev/key.pem") == 0o600)
                let shown = try await vouch.run("admin", "device", "show", id, "--server", server, "--api-key", admin, "--json").jsonObject()
                let device = try #require(shown["device"] as? [String: Any])
                #expect(device["did"] as? String == newDID)
                #expect(device["previousDids"] as? [String] == [oldDID])
                // A rotation whose answer was lost (the new key still pending, the old one in place)
                // is finished by the next run; a pending key the server never took is abandoned.
                let newKey = try vouch.data("dev/key.jwk")
                try FileManager.default.moveItem(at: vouch.url("dev/key.jwk"), to: vouch.url("dev/key.jwk.new"))
                try vouch.write(try vouch.data("old-key.jwk"), to: "dev/key.jwk")
                let resumed = try await vouch.run("device", "rotate", "--dir", "dev")
                resumed.expectExit(0)
                #expect(resumed.standardOutput.contains("finished an interrupted rotation"), "\(resumed)")
                #expect(try vouch.data("dev/key.jwk") == newKey)
                #expect(!vouch.exists("dev/key.jwk.new"))
                try vouch.write(try vouch.data("old-key.jwk"), to: "dev/key.jwk.new")
                try await vouch.run("device", "rotate", "--dir", "dev").expectVerificationFailure(mentioning: "abandoned")
                #expect(!vouch.exists("dev/key.jwk.new"))
                #expect(try vouch.data("dev/key.jwk") == newKey)

                // The rotated key authenticates; the credentials on disk are the new ones.
                try await vouch.run("device", "token", "--dir", "dev").expectExit(0)
                try await vouch.run("credential", "verify", "@dev/identity.vc.jwt", "--trust-bundle", "dev/trust-bundle.json", "--fetch-status").expectExit(0)

                // Status lists fetched by other means verify with the bundle's keys, offline.
                let listURLs = try Credential(payload: try CompactJWS(parsing: try vouch.text("dev/identity.vc.jwt").trimmingCharacters(in: .whitespacesAndNewlines)).payload)
                    .status.map(\.statusListCredential)
                #expect(listURLs.count == 2)
                func fetchLists() async throws -> [String] {
                    var arguments: [String] = []
                    for (index, url) in listURLs.enumerated() {
                        try vouch.write(try await Self.fetch(url), to: "list-\(index).vc.jwt")
                        arguments += ["--status-list", "list-\(index).vc.jwt"]
                    }
                    return arguments
                }
                try await vouch.run(["credential", "verify", "@dev/identity.vc.jwt", "--trust-bundle", "dev/trust-bundle.json"] + fetchLists()).expectExit(0)

                try await vouch.run("admin", "device", "revoke", id, "--reason", "key-compromise", "--server", server, "--api-key", admin).expectExit(0)
                try await vouch.run("credential", "verify", "@dev/identity.vc.jwt", "--trust-bundle", "dev/trust-bundle.json", "--fetch-status")
                    .expectVerificationFailure(mentioning: "revoked")
                try await vouch.run(["credential", "verify", "@dev/identity.vc.jwt", "--trust-bundle", "dev/trust-bundle.json"] + fetchLists())
                    .expectVerificationFailure(mentioning: "revoked")
                try await vouch.run("device", "token", "--dir", "dev").expectRefusedByServer(mentioning: "revoked")
                let listed = try await vouch.run("admin", "device", "list", "--state", "revoked", "--server", server, "--api-key", admin)
                listed.expectExit(0)
                #expect(listed.standardOutput.contains(id), "\(listed)")
            }
        }
    }

    /// The body at `url`, fetched with curl (a client that is not Vouch's).
    static func fetch(_ url: String) async throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sSf", url]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "curl \(url) failed")
        return data
    }
}
