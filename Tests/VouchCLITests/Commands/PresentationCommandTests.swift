import Foundation
import Testing

extension CLITests {
    @Suite("presentation create and verify")
    struct Presentations {
        static let nonce = "n-8f2c41"
        static let audience = "https://verifier.example"

        /// An issuer, a P-256 holder with a credential from that issuer, and a presentation of it in `vp.jwt`.
        struct Fixture {
            let issuer: String
            let holder: String
            let token: String

            init(_ vouch: VouchProcess) async throws {
                issuer = try await vouch.generateKey("issuer.jwk")
                holder = try await vouch.generateKey("holder.jwk", type: "p256")
                try await vouch.issueCredential(key: "issuer.jwk", subject: holder, to: "cred.jwt")
                let created = try await vouch.run(
                    "presentation", "create", "--key", "holder.jwk", "--credential", "@cred.jwt",
                    "--nonce", Presentations.nonce, "--audience", Presentations.audience)
                created.expectExit(0)
                #expect(created.outputLines.count == 1, "\(created)")
                token = try #require(created.lastOutputLine)
                try vouch.write(token, to: "vp.jwt")
            }

            func verify(
                _ vouch: VouchProcess, nonce: String = Presentations.nonce, audience: String = Presentations.audience,
                trust: [String]? = nil, extra: [String] = []
            ) async throws -> VouchProcess.Outcome {
                let trusted = (trust ?? [issuer]).flatMap { ["--trust", $0] }
                return try await vouch.run(
                    ["presentation", "verify", "@vp.jwt", "--nonce", nonce, "--audience", audience] + trusted + extra)
            }
        }

        @Test func verifiesAPresentationBoundToNonceAndAudience() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                #expect(try JWSParts.header(fixture.token)["typ"] as? String == "vp+jwt")
                let outcome = try await fixture.verify(vouch)
                outcome.expectExit(0)
                #expect(outcome.standardError.isEmpty, "\(outcome)")
                #expect(outcome.standardOutput.contains(fixture.holder), "\(outcome)")
                #expect(outcome.standardOutput.contains(fixture.issuer), "\(outcome)")
            }
        }

        @Test func jsonResultNamesTheHolderAndCredentials() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                let outcome = try await fixture.verify(vouch, extra: ["--json"])
                outcome.expectExit(0)
                let result = try outcome.jsonObject()
                #expect(result["valid"] as? Bool == true)
                #expect((result["failures"] as? [Any])?.isEmpty == true)
                #expect(result["holder"] as? String == fixture.holder)
                let credentials = try #require(result["credentials"] as? [[String: Any]])
                #expect(credentials.map { $0["issuer"] as? String } == [fixture.issuer])
            }
        }

        @Test func failsWithAnotherNonce() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                let outcome = try await fixture.verify(vouch, nonce: "n-other")
                outcome.expectVerificationFailure(mentioning: "nonce")
            }
        }

        @Test func failsForAnotherAudience() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                let outcome = try await fixture.verify(vouch, audience: "https://other.example")
                outcome.expectVerificationFailure(mentioning: "audience")
            }
        }

        @Test func failsWhenTheHolderIsNotTheCredentialSubject() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                let thief = try await vouch.generateKey("thief.jwk")
                let stolen = try await vouch.run(
                    "presentation", "create", "--key", "thief.jwk", "--credential", "@cred.jwt",
                    "--nonce", Self.nonce, "--audience", Self.audience)
                stolen.expectExit(0)
                try vouch.write(try #require(stolen.lastOutputLine), to: "vp.jwt")

                let outcome = try await fixture.verify(vouch)
                outcome.expectVerificationFailure(mentioning: "holder")
                #expect(outcome.standardError.contains(thief), "\(outcome)")

                let json = try await fixture.verify(vouch, extra: ["--json"])
                json.expectExit(1)
                let result = try json.jsonObject()
                #expect(result["valid"] as? Bool == false)
                let failures = try #require(result["failures"] as? [[String: Any]])
                #expect(failures.map { $0["check"] as? String } == ["holderBinding"])
            }
        }

        @Test func failsWhenTheCredentialIssuerIsNotTrusted() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                try await fixture.verify(vouch, trust: []).expectVerificationFailure(mentioning: "not trusted")
                try await fixture.verify(vouch, trust: [fixture.holder]).expectVerificationFailure(mentioning: "not trusted")
            }
        }

        @Test func failsWhenThePresentedCredentialIsRevoked() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let issuer = try await vouch.generateKey("issuer.jwk")
                let holder = try await vouch.generateKey("holder.jwk")
                try await vouch.run("status-list", "new", "--out", "status.json").expectExit(0)
                try await vouch.issueCredential(
                    key: "issuer.jwk", subject: holder, to: "cred.jwt",
                    extra: ["--status-list-url", "https://vouch.example/status/1", "--status-index", "9"])
                let created = try await vouch.run(
                    "presentation", "create", "--key", "holder.jwk", "--credential", "@cred.jwt",
                    "--nonce", Self.nonce, "--audience", Self.audience)
                created.expectExit(0)
                let token = try #require(created.lastOutputLine)
                let verify = [
                    "presentation", "verify", token, "--nonce", Self.nonce, "--audience", Self.audience,
                    "--trust", issuer, "--status-list", "status.json",
                ]
                try await vouch.run(verify).expectExit(0)
                try await vouch.run("status-list", "set", "status.json", "9").expectExit(0)
                try await vouch.run(verify).expectVerificationFailure(mentioning: "revoked")
            }
        }

        @Test func presentsSeveralCredentials() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                let second = try await vouch.generateKey("second-issuer.jwk")
                try await vouch.issueCredential(key: "second-issuer.jwk", subject: fixture.holder, to: "cred2.jwt")
                let created = try await vouch.run(
                    "presentation", "create", "--key", "holder.jwk", "--credential", "@cred.jwt",
                    "--credential", "@cred2.jwt", "--nonce", Self.nonce, "--audience", Self.audience)
                created.expectExit(0)
                try vouch.write(try #require(created.lastOutputLine), to: "vp.jwt")
                try await fixture.verify(vouch, trust: [fixture.issuer, second]).expectExit(0)
                try await fixture.verify(vouch, trust: [fixture.issuer]).expectVerificationFailure(mentioning: "not trusted")
            }
        }

        @Test func createRejectsBadInputAsUsageErrors() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let holder = try await vouch.generateKey("holder.jwk")
                _ = try await vouch.generateKey("issuer.jwk")
                try await vouch.issueCredential(key: "issuer.jwk", subject: holder, to: "cred.jwt")
                let base = ["presentation", "create", "--key", "holder.jwk"]
                let cases: [[String]] = [
                    base + ["--credential", "@missing.jwt", "--nonce", "n", "--audience", "a"],
                    base + ["--nonce", "n", "--audience", "a"],
                    base + ["--credential", "@cred.jwt", "--nonce", "", "--audience", "a"],
                    base + ["--credential", "@cred.jwt", "--nonce", "n", "--audience", ""],
                    base + ["--credential", "@cred.jwt", "--nonce", "n", "--audience", "a", "--valid-for", "25h"],
                    ["presentation", "create", "--key", "missing.jwk", "--credential", "@cred.jwt", "--nonce", "n", "--audience", "a"],
                ]
                for arguments in cases {
                    try await vouch.run(arguments).expectUsageError()
                }
            }
        }
    }
}
