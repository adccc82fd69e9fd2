import Foundation
import Testing

extension CLITests {
    @Suite("credential issue and verify")
    struct Credentials {
        static let statusListURL = "https://vouch.example/status/1"

        /// Keys for an issuer and a device, a status list, and a credential about the device with
        /// claims, a 30-day lifetime and status list index 42, written to `cred.jwt`.
        struct Fixture {
            let issuer: String
            let device: String
            let token: String

            init(_ vouch: VouchProcess) async throws {
                issuer = try await vouch.generateKey("issuer.jwk")
                device = try await vouch.generateKey("device.jwk")
                let list = try await vouch.run("status-list", "new", "--size", "131072", "--out", "status.json")
                list.expectExit(0)
                try vouch.write(#"{"hostname": "web-01", "role": "server"}"#, to: "claims.json")
                let issued = try await vouch.run(
                    "credential", "issue", "--key", "issuer.jwk", "--subject", device, "--type", "DeviceCredential",
                    "--claims", "claims.json", "--valid-for", "30d",
                    "--status-list-url", Credentials.statusListURL, "--status-index", "42")
                issued.expectExit(0)
                #expect(issued.standardError.isEmpty, "\(issued)")
                #expect(issued.outputLines.count == 1, "\(issued)")
                token = try #require(issued.lastOutputLine)
                try vouch.write(token + "\n", to: "cred.jwt")
            }
        }

        @Test func issuedCredentialIsAVCJWTWithTheClaimsLifetimeAndStatusEntry() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                let header = try JWSParts.header(fixture.token)
                #expect(header["typ"] as? String == "vc+jwt")
                let payload = try JWSParts.payload(fixture.token)
                #expect(payload["issuer"] as? String == fixture.issuer)
                #expect(payload["type"] as? [String] == ["VerifiableCredential", "DeviceCredential"])
                let subject = try #require(payload["credentialSubject"] as? [String: Any])
                #expect(subject["id"] as? String == fixture.device)
                #expect(subject["hostname"] as? String == "web-01")
                #expect(subject["role"] as? String == "server")
                let status = try #require(payload["credentialStatus"] as? [String: Any])
                #expect(status["type"] as? String == "BitstringStatusListEntry")
                #expect(status["statusListCredential"] as? String == Self.statusListURL)
                #expect(status["statusListIndex"] as? String == "42")
                #expect(status["statusPurpose"] as? String == "revocation")
                let validFromText = try #require(payload["validFrom"] as? String)
                let validUntilText = try #require(payload["validUntil"] as? String)
                let validFrom = try #require(ISO8601DateFormatter().date(from: validFromText))
                let validUntil = try #require(ISO8601DateFormatter().date(from: validUntilText))
                #expect(validUntil.timeIntervalSince(validFrom) == 30 * 86_400)
                #expect(abs(validFrom.timeIntervalSinceNow) < 600)
            }
        }

        @Test func verifiesWithTrustedIssuerAndStatusList() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                for token in ["@cred.jwt", fixture.token] {
                    let outcome = try await vouch.run(
                        "credential", "verify", token, "--trust", fixture.issuer, "--status-list", "status.json")
                    outcome.expectExit(0)
                    #expect(outcome.standardError.isEmpty, "\(outcome)")
                    #expect(outcome.standardOutput.contains(fixture.issuer), "\(outcome)")
                    #expect(outcome.standardOutput.contains(fixture.device), "\(outcome)")
                }
            }
        }

        @Test func jsonResultOfAValidCredential() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                let outcome = try await vouch.run(
                    "credential", "verify", "@cred.jwt", "--trust", fixture.issuer, "--status-list", "status.json", "--json")
                outcome.expectExit(0)
                let result = try outcome.jsonObject()
                #expect(result["valid"] as? Bool == true)
                let failures = try #require(result["failures"] as? [Any])
                #expect(failures.isEmpty)
            }
        }

        @Test func settingItsStatusBitRevokesTheCredential() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                try await vouch.run("status-list", "set", "status.json", "42").expectExit(0)
                let check = try await vouch.run("status-list", "check", "status.json", "42")
                check.expectExit(0)
                #expect(check.standardOutput == "1\n")

                let outcome = try await vouch.run(
                    "credential", "verify", "@cred.jwt", "--trust", fixture.issuer, "--status-list", "status.json")
                outcome.expectVerificationFailure(mentioning: "revoked")

                let json = try await vouch.run(
                    "credential", "verify", "@cred.jwt", "--trust", fixture.issuer, "--status-list", "status.json", "--json")
                json.expectExit(1)
                let result = try json.jsonObject()
                #expect(result["valid"] as? Bool == false)
                let failures = try #require(result["failures"] as? [[String: Any]])
                #expect(failures.count == 1)
                #expect(failures.first?["check"] as? String == "status")
                #expect((failures.first?["reason"] as? String)?.contains("revoked") == true)
            }
        }

        @Test func clearingItsStatusBitAgainRestoresTheCredential() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                try await vouch.run("status-list", "set", "status.json", "42").expectExit(0)
                try await vouch.run("status-list", "set", "status.json", "42", "--clear").expectExit(0)
                let outcome = try await vouch.run(
                    "credential", "verify", "@cred.jwt", "--trust", fixture.issuer, "--status-list", "status.json")
                outcome.expectExit(0)
            }
        }

        @Test func anotherEntryInTheListDoesNotRevokeIt() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                try await vouch.run("status-list", "set", "status.json", "41", "43").expectExit(0)
                let outcome = try await vouch.run(
                    "credential", "verify", "@cred.jwt", "--trust", fixture.issuer, "--status-list", "status.json")
                outcome.expectExit(0)
            }
        }

        @Test func failsWhenTheIssuerIsNotTrusted() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                let outcome = try await vouch.run("credential", "verify", "@cred.jwt", "--status-list", "status.json")
                outcome.expectVerificationFailure(mentioning: "not trusted")

                // Trusting someone else is no better than trusting no one.
                let other = try await vouch.run(
                    "credential", "verify", "@cred.jwt", "--trust", fixture.device, "--status-list", "status.json")
                other.expectVerificationFailure(mentioning: "not trusted")

                let json = try await vouch.run("credential", "verify", "@cred.jwt", "--status-list", "status.json", "--json")
                json.expectExit(1)
                let result = try json.jsonObject()
                #expect(result["valid"] as? Bool == false)
                let failures = try #require(result["failures"] as? [[String: Any]])
                #expect(failures.map { $0["check"] as? String } == ["trustedIssuer"])
                #expect((failures.first?["reason"] as? String)?.contains(fixture.issuer) == true)
            }
        }

        /// Status is never assumed good: a credential with a status entry and no list to check fails.
        @Test func failsWhenItsStatusListIsNotGiven() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                let outcome = try await vouch.run("credential", "verify", "@cred.jwt", "--trust", fixture.issuer)
                outcome.expectVerificationFailure(mentioning: Self.statusListURL)
            }
        }

        @Test func failsWhenThePayloadIsAltered() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let fixture = try await Fixture(vouch)
                var payload = try JWSParts.payload(fixture.token)
                var subject = try #require(payload["credentialSubject"] as? [String: Any])
                subject["role"] = "admin"
                payload["credentialSubject"] = subject
                let forged = try JWSParts.replacingPayload(of: fixture.token, with: payload)
                let outcome = try await vouch.run(
                    "credential", "verify", forged, "--trust", fixture.issuer, "--status-list", "status.json")
                outcome.expectVerificationFailure(mentioning: "signature")
            }
        }

        /// The private keys of the did:key test-suite vectors (the Ed25519 key is the one for the
        /// all-zero seed) must sign as exactly those DIDs.
        @Test(arguments: [
            (
                #"{"kty":"OKP","crv":"Ed25519","x":"O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik","d":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
                "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
            ),
            (
                #"{"kty":"EC","crv":"P-256","x":"igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns","y":"efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM","d":"gPh-VvVS8MbvKQ9LSVVmfnxnKjHn4Tqj0bmbpehRlpc"}"#,
                "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"
            ),
        ])
        func credentialSignedWithAVectorKeyIsIssuedByTheVectorDID(_ jwk: String, _ did: String) async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try vouch.write(jwk, to: "vector.jwk")
                let device = try await vouch.generateKey("device.jwk")
                let issued = try await vouch.run(
                    "credential", "issue", "--key", "vector.jwk", "--subject", device, "--type", "DeviceCredential")
                issued.expectExit(0)
                let token = try #require(issued.lastOutputLine)
                #expect(try JWSParts.payload(token)["issuer"] as? String == did)
                let verified = try await vouch.run("credential", "verify", token, "--trust", did)
                verified.expectExit(0)
            }
        }

        @Test func issueRejectsBadInputAsUsageErrors() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let device = try await vouch.generateKey("device.jwk")
                _ = try await vouch.generateKey("issuer.jwk")
                try vouch.write("[1, 2]", to: "array.json")
                try vouch.write(#"{"id": "did:example:other"}"#, to: "id.json")
                let base = ["credential", "issue", "--key", "issuer.jwk", "--subject", device, "--type", "DeviceCredential"]
                let cases: [[String]] = [
                    ["credential", "issue", "--key", "missing.jwk", "--subject", device, "--type", "T"],
                    ["credential", "issue", "--key", "issuer.jwk", "--subject", "not-a-did", "--type", "T"],
                    ["credential", "issue", "--subject", device, "--type", "T"],
                    base + ["--claims", "array.json"],
                    base + ["--claims", "id.json"],
                    base + ["--claims", "missing.json"],
                    base + ["--valid-for", "0d"],
                    base + ["--valid-for", "30"],
                    base + ["--valid-for", "30y"],
                    base + ["--status-list-url", Self.statusListURL],
                    base + ["--status-index", "3"],
                    base + ["--status-list-url", Self.statusListURL, "--status-index=-1"],
                ]
                for arguments in cases {
                    try await vouch.run(arguments).expectUsageError()
                }
            }
        }
    }
}
