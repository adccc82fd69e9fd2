import Foundation
import Testing

/// The admin API from the command line: API keys with scopes, groups shown, changed, disabled and
/// enabled, events, metrics, a device's telemetry, and the exit status of each kind of failure.
@Suite("vouch admin: the whole API")
struct AdminCommandTests {
    @Test func versionAndExitStatusesAreDocumented() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            let version = try await vouch.run("--version")
            version.expectExit(0)
            #expect(version.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3, "\(version)")
            let help = try await vouch.run("--help")
            help.expectExit(0)
            for line in ["1  checked and refused", "2  a usage or input error", "3  the server refused the request", "4  the server could not be reached"] {
                #expect(help.standardOutput.contains(line), "\(help)")
            }
            // Nothing listens on port 9 of this machine: unreachable is 4, not a refusal.
            try await vouch.run("admin", "group", "list", "--server", "http://127.0.0.1:9", "--api-key", "vk_x").expectExit(4)
            let serveHelp = try await vouch.run("serve", "--help")
            for variable in ["VOUCH_TELEMETRY_KEEP", "VOUCH_RATE_LIMIT", "VOUCH_LOG_LEVEL", "VOUCH_MONITOR_LIMIT"] {
                #expect(serveHelp.standardOutput.contains(variable), "serve --help does not name \(variable)")
            }
            try await vouch.run("serve", "--log-level", "loud").expectUsageError(mentioning: "--log-level=loud is not a log level; use one of trace")
            try await vouch.run(["serve", "--port", "0", "--data-dir", "d"], environment: ["VOUCH_LOG_LEVEL": "loud"])
                .expectUsageError(mentioning: "VOUCH_LOG_LEVEL=loud is not a log level")
            #expect(!vouch.exists("d"), "a refused start made its data directory")
        }
    }

    @Test func apiKeysGroupsEventsMetricsAndTelemetry() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            try await vouch.withServer { server, admin in
                let connection = ["--server", server, "--api-key", admin]

                // API keys: a gateway key asks authorization questions and reads nothing else.
                let created = try await vouch.run(["admin", "api-key", "create", "--name", "broker", "--scope", "gateway"] + connection)
                created.expectExit(0)
                let secret = try #require(created.lastOutputLine)
                #expect(secret.hasPrefix("vk_") && created.standardOutput.contains(": gateway"), "\(created)")
                let id = try #require(created.outputLines.first?.split(separator: " ").dropFirst(2).first.map(String.init))
                try await vouch.run(["admin", "group", "list", "--server", server, "--api-key", secret]).expectRefusedByServer(mentioning: "scope")
                let listed = try await vouch.run(["admin", "api-key", "list"] + connection)
                #expect(listed.outputLines.contains { $0.hasPrefix(id + "\tgateway\tactive\tbroker") }, "\(listed)")
                try await vouch.run(["admin", "api-key", "create", "--name", "x", "--scope", "root"] + connection)
                    .expectUsageError(mentioning: "--scope must be one of")
                try await vouch.run(["admin", "api-key", "revoke", id] + connection).expectExit(0)
                try await vouch.run(["authorize", "--subject", "dev_x", "--action", "publish", "--resource", "a", "--server", server, "--api-key", secret])
                    .expectRefusedByServer(mentioning: "API key")
                let relisted = try await vouch.run(["admin", "api-key", "list"] + connection)
                #expect(relisted.outputLines.contains { $0.hasPrefix(id + "\tgateway\trevoked") }, "\(relisted)")

                // Groups: shown, changed, disabled (enrollments refused) and enabled again.
                let group = try await vouch.run(["admin", "group", "create", "--name", "line-1", "--token-uses", "1"] + connection)
                let token = try #require(group.lastOutputLine)
                let shown = try await vouch.run(["admin", "group", "show", "line-1"] + connection)
                #expect(shown.standardOutput.contains("claim token: 1 use left") && shown.standardOutput.contains("approval: auto"), "\(shown)")
                try await vouch.run(["admin", "group", "update", "line-1"] + connection).expectUsageError(mentioning: "at least one rule")
                let updated = try await vouch.run(["admin", "group", "update", "line-1", "--token-uses", "5", "--approval", "manual", "--zone", "plant"] + connection)
                updated.expectExit(0)
                #expect(updated.standardOutput.contains("claim token: 5 uses left") && updated.standardOutput.contains("approval: manual")
                    && updated.standardOutput.contains("zone: plant"), "\(updated)")
                try await vouch.run(["admin", "group", "disable", "line-1"] + connection).expectExit(0)
                let refused = try await vouch.run(["device", "enroll", "--group", "line-1", "--token", token, "--dir", "dev"], environment: ["VOUCH_SERVER": server])
                refused.expectRefusedByServer(mentioning: "disabled")
                #expect(!vouch.exists("dev"), "a refused enrollment left its directory behind")
                try await vouch.run(["admin", "group", "enable", "line-1"] + connection).expectExit(0)
                // Enrollment reads VOUCH_SERVER like every other command.
                let enrolled = try await vouch.run(["device", "enroll", "--group", "line-1", "--token", token, "--dir", "dev"], environment: ["VOUCH_SERVER": server])
                enrolled.expectExit(0)
                let device = try #require(enrolled.lastOutputLine)
                try await vouch.run(["admin", "group", "show", "no-such-group"] + connection).expectRefusedByServer(mentioning: "no-such-group")
                // An illegal lifecycle change says which are legal, once.
                let illegal = try await vouch.run(["admin", "device", "reinstate", device] + connection)
                illegal.expectRefusedByServer(mentioning: "a pending device cannot reinstate; legal actions: ")
                #expect(illegal.standardError.components(separatedBy: "legal actions").count == 2, "\(illegal)")

                // Telemetry: none kept by default, said so.
                let telemetry = try await vouch.run(["admin", "device", "telemetry", device] + connection)
                #expect(telemetry.standardOutput.contains("no telemetry kept for device \(device)"), "\(telemetry)")

                // Events: oldest first, each once; JSON lines parse.
                let events = try await vouch.run(["admin", "events"] + connection)
                events.expectExit(0)
                let kinds = events.outputLines.map { $0.split(separator: "\t")[2] }
                for kind in ["authority.bootstrapped", "apikey.created", "apikey.revoked", "group.created", "group.updated", "group.disabled", "device.pending"] {
                    #expect(kinds.contains(Substring(kind)), "no \(kind) in \(events)")
                }
                let sequence = events.outputLines.compactMap { Int($0.split(separator: "\t")[0]) }
                #expect(sequence == sequence.sorted() && Set(sequence).count == sequence.count, "\(sequence)")
                let json = try await vouch.run(["admin", "events", "--json", "--after", String(sequence.last! - 1)] + connection)
                let lastLine = try #require(json.outputLines.last)
                let last = try #require(try JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: Any])
                #expect(last["seq"] as? Int == sequence.last && json.outputLines.count == 1, "\(json)")
                try await vouch.run(["admin", "events", "--limit", "0"] + connection).expectUsageError(mentioning: "--limit")

                // Metrics: the exposition, as Prometheus reads it.
                let metrics = try await vouch.run(["admin", "metrics"] + connection)
                metrics.expectExit(0)
                #expect(metrics.standardOutput.contains("# TYPE vouch_"), "\(metrics)")
            }
        }
    }
}

extension AdminCommandTests {
    @Test func aLostAdminKeyIsRecoveredFromTheDataDirectoryAndRecorded() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            let lost = try await vouch.withServer { _, admin in admin }
            // While the server runs on SQLite, it holds the database: recovery waits for it to stop.
            try await vouch.withServer { _, _ in
                try await vouch.run("admin", "recover", "--data-dir", "data").expectUsageError(mentioning: "another Vouch server")
            }
            try FileManager.default.removeItem(at: vouch.url("data/admin-api-key"))
            try await vouch.run("admin", "recover", "--data-dir", "nowhere").expectUsageError(mentioning: "not the data directory of a bootstrapped authority")
            let recovered = try await vouch.run("admin", "recover", "--data-dir", "data")
            recovered.expectExit(0)
            let secret = try #require(recovered.lastOutputLine)
            #expect(secret.hasPrefix("vk_") && secret != lost, "\(recovered)")
            #expect(try vouch.text("data/admin-api-key").trimmingCharacters(in: .whitespacesAndNewlines) == secret)
            #expect(try vouch.permissions("data/admin-api-key") == 0o600)
            try await vouch.withServer { server, admin in
                #expect(admin == secret)
                let events = try await vouch.run("admin", "events", "--server", server, "--api-key", secret)
                events.expectExit(0)
                #expect(events.outputLines.contains { $0.contains("\tapikey.created\t") && $0.contains("\tby recovery\t") }, "\(events)")
                // The key made before still works: recovery takes nothing away.
                try await vouch.run("admin", "group", "list", "--server", server, "--api-key", lost).expectExit(0)
            }
        }
    }
}

extension AdminCommandTests {
    @Test func anotherPublicURLIsRefusedUntilMigrateURLMovesTheAuthority() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            try await vouch.withServer(extraArguments: ["--public-url", "https://a.test"]) { _, _ in }
            let refused = try await vouch.run("serve", "--port", "0", "--data-dir", "data", "--public-url", "https://b.test")
            refused.expectUsageError(mentioning: "vouch admin migrate-url --data-dir data --to https://b.test")
            #expect(refused.standardError.contains("this authority's public URL is https://a.test"), "\(refused)")
            #expect(!refused.standardOutput.contains("vouch serving"), "\(refused)")
            try await vouch.run("admin", "migrate-url", "--data-dir", "data", "--to", "ftp://b.test").expectUsageError(mentioning: "not an http or https URL")
            // While a server runs on the SQLite database, it waits for it to stop.
            try await vouch.withServer(extraArguments: ["--public-url", "https://a.test"]) { _, _ in
                try await vouch.run("admin", "migrate-url", "--data-dir", "data", "--to", "https://b.test").expectUsageError(mentioning: "another Vouch server")
            }
            let moved = try await vouch.run("admin", "migrate-url", "--data-dir", "data", "--to", "https://b.test/")
            moved.expectExit(0)
            #expect(moved.outputLines.first == "the authority's public URL is now https://b.test (was https://a.test)", "\(moved)")
            try await vouch.withServer(extraArguments: ["--public-url", "https://b.test"]) { server, admin in
                let did = try JSONSerialization.jsonObject(with: try await LogWatchAndWitnessTests.get(server + "/.well-known/did.json")) as? [String: Any]
                #expect(did?["id"] as? String == "did:web:b.test", "\(String(describing: did))")
                let events = try await vouch.run("admin", "events", "--server", server, "--api-key", admin)
                events.expectExit(0)
                #expect(events.outputLines.contains { $0.contains("\tauthority.url-migrated\t") && $0.contains("\tby operator\t") }, "\(events)")
            }
        }
    }

    @Test func withTheRootKeyExportedTheServerRunsOnARootCRLSignedOffline() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            try await vouch.withServer { _, _ in }
            let exported = try await vouch.run("admin", "ca", "export-root", "--data-dir", "data", "--out", "root.key", "--remove", "--crl-days", "90")
            exported.expectExit(0)
            #expect(exported.outputLines.first == "wrote the root CA key to root.key (mode 0600): keep it offline", "\(exported)")
            #expect(exported.outputLines.last == "before then: vouch admin ca sign-root-crl --data-dir data --root-key root.key", "\(exported)")
            #expect(!vouch.exists("data/keys/root.key"))
            #expect(try vouch.permissions("root.key") == 0o600)
            try await vouch.run("admin", "ca", "export-root", "--data-dir", "data", "--out", "again.key").expectUsageError(mentioning: "kept offline already")
            try await vouch.withServer { server, _ in
                let served = try await LogWatchAndWitnessTests.get(server + "/v1/pki/root.crl")
                #expect(served == (try Data(contentsOf: vouch.url("data/pki/root.crl"))))
            }
            try await vouch.run("admin", "ca", "sign-root-crl", "--data-dir", "data", "--root-key", "root.key", "--days", "0")
                .expectUsageError(mentioning: "between 1 and 3650 days")
            try await vouch.run("admin", "ca", "sign-root-crl", "--data-dir", "data", "--root-key", "root.key").expectExit(0)
            // The intermediate rotates with the key brought back for it.
            try await vouch.run("admin", "ca", "rotate-intermediate", "--data-dir", "data").expectUsageError(mentioning: "give it with --root-key FILE")
            let rotated = try await vouch.run("admin", "ca", "rotate-intermediate", "--data-dir", "data", "--root-key", "root.key")
            rotated.expectExit(0)
            #expect(rotated.outputLines.first?.hasPrefix("the issuing intermediate is now generation 2 (SHA-256 ") == true, "\(rotated)")
            #expect(rotated.outputLines.last == "generation 1 answers for the 0 certificates it issued", "\(rotated)")
            try await vouch.withServer { server, _ in
                let published = String(decoding: try await LogWatchAndWitnessTests.get(server + "/v1/pki/intermediate.pem"), as: UTF8.self)
                #expect(published.components(separatedBy: "BEGIN CERTIFICATE").count == 3, "\(published)")
            }
            // openssl reads the new one as a CRL the root signed, running for a year.
            let read = try vouch.program("/usr/bin/openssl", ["crl", "-inform", "DER", "-in", "data/pki/root.crl", "-CAfile", "data/pki/root.pem", "-noout", "-nextupdate"])
            #expect(read.status == 0, "\(read.output)")
            #expect(read.output.contains("verify OK"), "\(read.output)")
            let year = Calendar(identifier: .gregorian).component(.year, from: Date().addingTimeInterval(365 * 86_400))
            #expect(read.output.contains("nextUpdate=") && read.output.contains(" \(year) GMT"), "\(read.output)")
        }
    }

    @Test func aBackupTakenWhileTheServerRunsRestoresIntoAnAuthorityWhoseLogAuditsClean() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            let (logKey, group) = try await vouch.withServer { server, admin in
                let connection = ["--server", server, "--api-key", admin]
                let group = try await vouch.run(["admin", "group", "create", "--name", "before-backup"] + connection)
                group.expectExit(0)
                let token = try #require(group.lastOutputLine)
                try await vouch.run(["device", "enroll", "--server", server, "--group", "before-backup", "--token", token, "--dir", "dev"]).expectExit(0)
                let key = String(decoding: try await LogWatchAndWitnessTests.get(server + "/v1/log/key"), as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                // Taken while the server runs and writes.
                let backup = try await vouch.run("admin", "backup", "--data-dir", "data", "--out", "backup")
                backup.expectExit(0)
                #expect(try vouch.permissions("backup") == 0o700 && vouch.exists("backup/vouch.sqlite") && vouch.exists("backup/keys/root.key"), "\(backup)")
                #expect(try vouch.permissions("backup/keys/intermediate.key") == 0o600)
                try await vouch.run("admin", "backup", "--data-dir", "data", "--out", "backup").expectUsageError(mentioning: "exists")
                return (key, "before-backup")
            }
            try await vouch.run("admin", "restore", "--from", "backup", "--data-dir", "data").expectUsageError(mentioning: "is not empty")
            try await vouch.run("admin", "restore", "--from", "nowhere", "--data-dir", "restored").expectUsageError(mentioning: "not the data directory")
            let restored = try await vouch.run("admin", "restore", "--from", "backup", "--data-dir", "restored")
            restored.expectExit(0)
            // The restored authority serves what was backed up, and its log audits clean.
            try FileManager.default.moveItem(at: vouch.url("data"), to: vouch.url("original"))
            try FileManager.default.moveItem(at: vouch.url("restored"), to: vouch.url("data"))
            try await vouch.withServer { server, admin in
                let groups = try await vouch.run("admin", "group", "list", "--server", server, "--api-key", admin)
                #expect(groups.outputLines.contains { $0.hasPrefix(group + "\t") }, "\(groups)")
                let audit = try await vouch.run("log", "verify", "--server", server, "--key", logKey)
                audit.expectExit(0)
            }
        }
    }
}
