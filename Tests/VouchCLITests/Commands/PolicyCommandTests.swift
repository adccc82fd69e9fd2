import Foundation
import Testing

/// Policies from the command line: offline validation and dry runs, upload to a real `vouch serve`,
/// decisions, and placing devices.
@Suite("vouch policy and vouch authorize", .timeLimit(.minutes(5)))
struct PolicyCommandTests {
    static let policy = """
        zones:
          line-3: {description: Assembly line 3}
          plant-ops: {}
        flows:
          - {from: line-3, to: plant-ops, allow: ["publish:telemetry/#"]}
        roles:
          sensor:
            allow:
              - publish:telemetry/${device.id}/#
              - read:firmware/${device.model}/*
            deny:
              - publish:telemetry/${device.id}/debug
          ops: {allow: ["subscribe:telemetry/#"]}
        """

    static let cases = """
        devices:
          s1: {zone: line-3, roles: [sensor], attributes: {model: t1000}}
          o1: {zone: plant-ops, roles: [ops]}
          q1: {zone: line-3, roles: [sensor], quarantined: true}
        cases:
          - {subject: s1, action: publish, resource: telemetry/s1/temp, expect: allow}
          - {subject: s1, action: publish, resource: telemetry/s1/debug, expect: deny}
          - {subject: s1, action: read, resource: firmware/t1000/2.bin, expect: allow}
          - {subject: s1, action: publish, resource: telemetry/s1/temp, context: {peer: o1}, expect: allow}
          - {subject: o1, action: subscribe, resource: telemetry/s1/temp, context: {peer: s1}, expect: deny}
          - {subject: q1, action: publish, resource: telemetry/q1/temp, expect: deny}
          - {subject: q1, action: attest, resource: device/q1, expect: allow}
        """

    @Test func validateAndTestWorkOffline() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            try vouch.write(Self.policy, to: "policy.yaml")
            try vouch.write(Self.cases, to: "cases.yaml")
            let valid = try await vouch.run("policy", "validate", "policy.yaml")
            valid.expectExit(0)
            #expect(valid.standardOutput.contains("2 zones, 2 roles, 1 flow"), "\(valid)")

            try vouch.write(Self.policy.replacingOccurrences(of: "deny:", with: "dney:") + "\n  extra: {allow: [\"publish:a/#/b\"]}\n", to: "bad.yaml")
            let invalid = try await vouch.run("policy", "validate", "bad.yaml")
            invalid.expectExit(1)
            #expect(invalid.standardError.contains("roles.sensor.dney (line 12, column 7)"), "\(invalid)")
            #expect(invalid.standardError.contains("roles.extra.allow[0]"), "\(invalid)")
            #expect(invalid.standardError.contains("has 2 problems"), "\(invalid)")

            let passing = try await vouch.run("policy", "test", "policy.yaml", "--cases", "cases.yaml")
            passing.expectExit(0)
            #expect(passing.standardOutput.contains("7 of 7 cases pass"), "\(passing)")

            // A case the policy does not meet: named, with the decision's reasons.
            try vouch.write(Self.cases + "\n  - {subject: s1, action: publish, resource: telemetry/o1/temp, expect: allow}\n", to: "more.yaml")
            let failing = try await vouch.run("policy", "test", "policy.yaml", "--cases", "more.yaml")
            failing.expectExit(1)
            #expect(failing.standardOutput.contains("FAIL cases[7]: s1 publish telemetry/o1/temp: expected allow, got deny"), "\(failing)")
            #expect(failing.standardOutput.contains("denied by default"), "\(failing)")
            #expect(failing.standardOutput.contains("7 of 8 cases pass"), "\(failing)")

            try vouch.write("cases:\n  - {subject: nobody, action: publish, resource: a, expect: maybe}\n", to: "broken.yaml")
            let broken = try await vouch.run("policy", "test", "policy.yaml", "--cases", "broken.yaml")
            broken.expectUsageError(mentioning: "cases[0].subject")
            try await vouch.run("policy", "validate", "missing.yaml").expectUsageError()
        }
    }

    /// The README's policy and cases, as written there, pass `vouch policy test`.
    @Test func theReadmePolicyPassesItsCases() async throws {
        let readme = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../README.md"), encoding: .utf8)
        func block(_ file: String) throws -> String {
            let start = try #require(readme.range(of: "cat > \(file) <<'END'\n"), "README has no \(file)")
            let end = try #require(readme[start.upperBound...].range(of: "\nEND\n"))
            return String(readme[start.upperBound..<end.lowerBound]) + "\n"
        }
        try await VouchProcess.withScratchDirectory { vouch in
            try vouch.write(try block("/tmp/policy.yaml"), to: "policy.yaml")
            try vouch.write(try block("/tmp/cases.yaml"), to: "cases.yaml")
            try await vouch.run("policy", "validate", "policy.yaml").expectExit(0)
            let result = try await vouch.run("policy", "test", "policy.yaml", "--cases", "cases.yaml")
            result.expectExit(0)
            #expect(result.standardOutput.contains("5 of 5 cases pass"), "\(result)")
        }
    }

    @Test func theDeviceAgentSendsTelemetryAndAttestsItsFirmware() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            try await vouch.withServer { server, admin in
                let connection = ["--server", server, "--api-key", admin]
                try vouch.write(Self.policy, to: "policy.yaml")
                try await vouch.run(["policy", "upload", "policy.yaml"] + connection).expectExit(0)
                let token = try #require(try await vouch.run(["admin", "group", "create", "--name", "sensors", "--zone", "line-3", "--role", "sensor"] + connection).lastOutputLine)
                let enrolled = try await vouch.run(
                    "device", "enroll", "--server", server, "--group", "sensors", "--token", token, "--attribute", "model=t1000", "--dir", "dev")
                let id = try #require(enrolled.lastOutputLine)

                let sent = try await vouch.run("device", "send", "--dir", "dev", "--topic", "telemetry/\(id)/temp", "--payload", "21.5", "--payload", "21.7")
                sent.expectExit(0)
                #expect(sent.outputLines == ["message 0: accepted", "message 1: accepted"], "\(sent)")
                #expect(try vouch.text("dev/telemetry-seq") == "2\n")
                let refused = try await vouch.run("device", "send", "--dir", "dev", "--topic", "telemetry/\(id)/debug", "--payload", "x")
                refused.expectExit(1)
                #expect(refused.standardOutput.contains("message 0: rejected (policy)"), "\(refused)")

                try vouch.write("firmware 2.1", to: "fw-2.1.bin")
                try vouch.write("firmware 2.0", to: "fw-2.0.bin")
                try await vouch.run(["admin", "firmware", "register", "--model", "t1000", "--version", "2.1", "--image", "fw-2.1.bin"] + connection).expectExit(0)
                let good = try await vouch.run("device", "attest", "--dir", "dev", "--image", "fw-2.1.bin", "--version", "2.1")
                good.expectExit(0)
                #expect(good.standardOutput.hasPrefix("good: t1000 2.1"), "\(good)")
                let unknown = try await vouch.run("device", "attest", "--dir", "dev", "--image", "fw-2.0.bin", "--version", "2.0")
                unknown.expectExit(1)
                #expect(unknown.standardOutput.hasPrefix("unknown:"), "\(unknown)")
                let listed = try await vouch.run(["admin", "firmware", "list"] + connection)
                #expect(listed.outputLines.count == 1 && listed.standardOutput.contains("t1000\t2.1\tgood"), "\(listed)")

                let shown = try await vouch.run(["admin", "device", "show", id, "--json"] + connection)
                let detail = try shown.jsonObject()
                #expect((detail["firmware"] as? [String: Any])?["status"] as? String == "unknown")
                let metrics = ((detail["activity"] as? [String: Any])?["metrics"] as? [String: Any]) ?? [:]
                #expect((metrics["messages"] as? [String: Int])?["5m"] == 2, "\(metrics)")
                #expect((metrics["firmware_drift"] as? [String: Int])?["5m"] == 1, "\(metrics)")
                #expect(((detail["activity"] as? [String: Any])?["sourceAddresses"] as? [String]) == ["127.0.0.1"])
            }
        }
    }

    @Test func uploadDecideAndAssignAgainstARealServer() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            try await vouch.withServer { server, admin in
                let connection = ["--server", server, "--api-key", admin]
                try vouch.write(Self.policy, to: "policy.yaml")
                try vouch.write("roles: {sensor: {alow: []}}\n", to: "bad.yaml")
                let refused = try await vouch.run(["policy", "upload", "bad.yaml"] + connection)
                refused.expectRefusedByServer(mentioning: "roles.sensor.alow (line 1)")
                let uploaded = try await vouch.run(["policy", "upload", "policy.yaml"] + connection)
                uploaded.expectExit(0)
                #expect(uploaded.standardOutput.contains("policy version 1 is in force"), "\(uploaded)")
                #expect(try await vouch.run(["policy", "upload", "policy.yaml"] + connection).standardOutput.contains("unchanged"))
                let shown = try await vouch.run(["policy", "show"] + connection)
                #expect(shown.standardOutput == Self.policy + "\n", "\(shown)")
                #expect(try await vouch.run(["policy", "versions"] + connection).outputLines.count == 1)

                let group = try await vouch.run(["admin", "group", "create", "--name", "sensors", "--zone", "line-3", "--role", "sensor"] + connection)
                group.expectExit(0)
                let token = try #require(group.lastOutputLine)
                let enrolled = try await vouch.run(
                    "device", "enroll", "--server", server, "--group", "sensors", "--token", token, "--attribute", "model=t1000", "--dir", "dev")
                enrolled.expectExit(0)
                let id = try #require(enrolled.lastOutputLine)

                let allowed = try await vouch.run(["authorize", "--subject", id, "--action", "publish", "--resource", "telemetry/\(id)/temp"] + connection)
                allowed.expectExit(0)
                #expect(allowed.standardOutput.hasPrefix("allow (policy version 1)"), "\(allowed)")
                #expect(allowed.standardOutput.contains("(roles.sensor.allow[0])"), "\(allowed)")
                let denied = try await vouch.run(["authorize", "--subject", id, "--action", "publish", "--resource", "telemetry/\(id)/debug"] + connection)
                denied.expectExit(1)
                #expect(denied.standardOutput.contains("explicitly denied (roles.sensor.deny[0])"), "\(denied)")

                // The device presents its credentials to a gateway, which asks with the presentation.
                let presented = try await vouch.run("device", "present", "--dir", "dev", "--nonce", "n-42", "--audience", "did:web:gateway")
                presented.expectExit(0)
                try vouch.write(presented.standardOutput, to: "vp.jwt")
                try await vouch.run(["authorize", "--subject", "vp.jwt", "--action", "read", "--resource", "firmware/t1000/x.bin"] + connection).expectExit(0)

                // Placing the device elsewhere changes the decision at once.
                let moved = try await vouch.run(["admin", "device", "assign", id, "--zone", "plant-ops", "--no-roles"] + connection)
                moved.expectExit(0)
                #expect(moved.standardOutput.contains("zone plant-ops, roles none"), "\(moved)")
                try await vouch.run(["authorize", "--subject", id, "--action", "publish", "--resource", "telemetry/\(id)/temp"] + connection).expectExit(1)
                let bad = try await vouch.run(["admin", "device", "assign", id, "--zone", "nowhere"] + connection)
                bad.expectRefusedByServer(mentioning: "zone nowhere is not defined by policy version 1")
                // A question the server cannot answer is its refusal (3), not a denial (1).
                try await vouch.run(["authorize", "--subject", id, "--action", "Publish!", "--resource", "x"] + connection).expectExit(3)
            }
        }
    }
}
