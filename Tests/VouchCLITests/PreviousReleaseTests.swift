import Foundation
import Testing
import VouchKit

/// A data directory made by the previous release (`Fixtures/release-76651f2`, see its README) opens
/// with today's code and keeps working: its devices, policy and group are there, its transparency
/// log stays consistent with what was verified before, and its devices renew, and its operators act.
@Suite("The previous release's data directory", .timeLimit(.minutes(3)))
struct PreviousReleaseTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/release-76651f2")

    @Test func opensAndKeepsWorking() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            for entry in try FileManager.default.contentsOfDirectory(atPath: Self.fixture.path) {
                try FileManager.default.copyItem(at: Self.fixture.appendingPathComponent(entry), to: vouch.url(entry))
            }
            // Git keeps no modes but the executable bit: give the keys back what the server requires.
            try Self.makePrivate(vouch.url("data"))
            for device in ["dev1", "dev2"] { try Self.makePrivate(vouch.url(device)) }
            let suspended = try vouch.text("suspended-device").trimmingCharacters(in: .whitespacesAndNewlines)
            let rotated = try vouch.text("rotated-device").trimmingCharacters(in: .whitespacesAndNewlines)
            let logKey = try vouch.text("log-verifier-key").trimmingCharacters(in: .whitespacesAndNewlines)

            try await vouch.withServer(extraArguments: ["--public-url", "http://127.0.0.1:18931"]) { server, admin in
                // The devices as the previous release left them.
                let list = try await vouch.run("admin", "device", "list", "--server", server, "--api-key", admin, "--json")
                list.expectExit(0)
                let devices = try JSONValue(parsing: Data(list.standardOutput.utf8)).arrayValue
                let states = Dictionary(uniqueKeysWithValues: devices.compactMap { device in
                    device["id"]?.stringValue.map { ($0, device["state"]?.stringValue ?? "") }
                })
                #expect(states == [suspended: "suspended", rotated: "active"], "\(list)")
                let rotatedView = try #require(devices.first { $0["id"]?.stringValue == rotated })
                #expect(rotatedView["previousDids"]?.arrayValue.count == 1)
                #expect(rotatedView["attributes"]?["model"]?.stringValue == "th-100")

                // The policy in force and the group.
                let policy = try await vouch.run("policy", "show", "--server", server, "--api-key", admin)
                policy.expectExit(0)
                #expect(policy.standardOutput == (try vouch.text("policy.yaml")), "\(policy)")
                let groups = try await vouch.run("admin", "group", "list", "--server", server, "--api-key", admin)
                groups.expectExit(0)
                #expect(groups.standardOutput.contains("sensors"), "\(groups)")

                // The log that was verified at size 15 grows consistently from it.
                let verified = try await vouch.run("log", "verify", "--server", server, "--key", logKey, "--state", "log-state")
                verified.expectExit(0)
                #expect(verified.standardOutput.contains("verified at size"), "\(verified)")

                // The rotated device renews with the key the previous release enrolled it with.
                let before = try vouch.text("dev2/cert.pem")
                let renewed = try await vouch.run("device", "renew", "--dir", "dev2", "--server", server)
                renewed.expectExit(0)
                let after = try vouch.text("dev2/cert.pem")
                #expect(after != before, "\(renewed)")
                // The certificate it got is the newest of the two good ones the server holds for the device
                // (a renewal leaves the previous certificate to expire).
                let shown = try await vouch.run("admin", "device", "show", rotated, "--server", server, "--api-key", admin, "--json")
                shown.expectExit(0)
                let certificates = try JSONValue(parsing: Data(shown.standardOutput.utf8))["certificates"]?.arrayValue ?? []
                let good = certificates.filter { $0["status"]?.stringValue == "good" }
                #expect(good.count == 2 && good.last?["pem"]?.stringValue == after, "\(shown)")
                #expect(certificates.contains { $0["reason"]?.stringValue == "superseded" }, "the certificate replaced by the rotation stays revoked")
                // The suspended device is refused, then reinstated by an operator, and acts again.
                let refused = try await vouch.run("device", "token", "--dir", "dev1", "--server", server)
                refused.expectRefusedByServer(mentioning: "suspended")
                try await vouch.run("admin", "device", "reinstate", suspended, "--server", server, "--api-key", admin).expectExit(0)
                try await vouch.run("device", "token", "--dir", "dev1", "--server", server).expectExit(0)

                // And the log still verifies after the changes of today's code.
                let again = try await vouch.run("log", "verify", "--server", server, "--key", logKey, "--state", "log-state")
                again.expectExit(0)
            }
        }
    }

    /// Directories 0700, files 0600, as the data directory requires of keys and secrets.
    static func makePrivate(_ root: URL) throws {
        let manager = FileManager.default
        try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: root.path)
        for case let path as String in manager.enumerator(atPath: root.path) ?? FileManager.DirectoryEnumerator() {
            let full = root.appendingPathComponent(path).path
            var directory: ObjCBool = false
            _ = manager.fileExists(atPath: full, isDirectory: &directory)
            try manager.setAttributes([.posixPermissions: directory.boolValue ? 0o700 : 0o600], ofItemAtPath: full)
        }
    }
}
