import Foundation
import Testing

/// End-to-end tests of the `vouch` executable: each test runs the real binary as a subprocess in a
/// scratch directory of its own and checks what it prints and its exit status (0 success,
/// 1 verification failure, 2 usage or input error).
@Suite("vouch CLI", .timeLimit(.minutes(2)))
struct CLITests {}

// MARK: - keys generate

extension CLITests {
    @Suite("keys generate")
    struct KeysGenerate {
        /// A `--type` and what its key file and did:key look like.
        struct KeyType: Sendable, CustomTestStringConvertible {
            let name: String
            let didPrefix: String
            let kty: String
            let crv: String
            let coordinates: [String]

            var testDescription: String { name }

            static let ed25519 = KeyType(name: "ed25519", didPrefix: "did:key:z6Mk", kty: "OKP", crv: "Ed25519", coordinates: ["x"])
            static let p256 = KeyType(name: "p256", didPrefix: "did:key:zDn", kty: "EC", crv: "P-256", coordinates: ["x", "y"])
        }

        @Test(arguments: [KeyType.ed25519, .p256])
        func writesPrivateJWKWithMode0600AndPrintsDIDKeyLast(_ keyType: KeyType) async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let outcome = try await vouch.run("keys", "generate", "--type", keyType.name, "--out", "device.jwk")
                outcome.expectExit(0)
                #expect(outcome.standardError.isEmpty, "\(outcome)")
                let did = try #require(outcome.lastOutputLine)
                #expect(did.hasPrefix(keyType.didPrefix), "\(did)")
                #expect(!did.contains(" "))

                #expect(try vouch.permissions("device.jwk") == 0o600)
                let jwk = try vouch.jsonObject("device.jwk")
                #expect(jwk["kty"] as? String == keyType.kty)
                #expect(jwk["crv"] as? String == keyType.crv)
                for member in keyType.coordinates + ["d"] {
                    let value = try #require(jwk[member] as? String, "JWK member \(member) missing")
                    #expect(try Base64URL.decode(value).count == 32, "JWK member \(member) is not 32 bytes")
                }
                let privateKey = try #require(jwk["d"] as? String)
                #expect(!outcome.standardOutput.contains(privateKey), "the private key was printed")
            }
        }

        @Test func typeDefaultsToEd25519() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let outcome = try await vouch.run("keys", "generate", "--out", "issuer.jwk")
                outcome.expectExit(0)
                #expect(outcome.lastOutputLine?.hasPrefix("did:key:z6Mk") == true, "\(outcome)")
                #expect(try vouch.jsonObject("issuer.jwk")["crv"] as? String == "Ed25519")
            }
        }

        @Test func eachRunMakesANewKey() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let first = try await vouch.generateKey("a.jwk")
                let second = try await vouch.generateKey("b.jwk")
                #expect(first != second)
            }
        }

        @Test func refusesToOverwriteAKeyFileWithoutForce() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let original = try await vouch.generateKey("device.jwk")
                let before = try vouch.data("device.jwk")

                let refused = try await vouch.run("keys", "generate", "--out", "device.jwk")
                refused.expectUsageError(mentioning: "--force")
                #expect(try vouch.data("device.jwk") == before, "the key file changed")

                let forced = try await vouch.run("keys", "generate", "--out", "device.jwk", "--force")
                forced.expectExit(0)
                let replacement = try #require(forced.lastOutputLine)
                #expect(replacement.hasPrefix("did:key:z6Mk"))
                #expect(replacement != original)
                #expect(try vouch.data("device.jwk") != before)
                #expect(try vouch.permissions("device.jwk") == 0o600)
            }
        }

        @Test(arguments: ["rsa", "ed448", "p384", ""])
        func rejectsAnUnknownKeyType(_ type: String) async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let outcome = try await vouch.run("keys", "generate", "--type", type, "--out", "device.jwk")
                outcome.expectUsageError()
                #expect(!vouch.exists("device.jwk"))
            }
        }

        @Test func requiresOut() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let outcome = try await vouch.run("keys", "generate")
                outcome.expectUsageError(mentioning: "--out")
            }
        }
    }
}

// MARK: - did resolve

extension CLITests {
    @Suite("did resolve")
    struct DIDResolve {
        @Test(arguments: ["ed25519", "p256"])
        func resolvesAGeneratedDIDKey(_ type: String) async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let did = try await vouch.generateKey("key.jwk", type: type)
                let outcome = try await vouch.run("did", "resolve", did)
                outcome.expectExit(0)
                #expect(outcome.standardError.isEmpty)
                let document = try outcome.jsonObject()
                #expect(document["id"] as? String == did)
                let methods = try #require(document["verificationMethod"] as? [[String: Any]])
                #expect(methods.count == 1)
                let methodID = try #require(methods.first?["id"] as? String)
                #expect(methodID == did + "#" + did.dropFirst("did:key:".count))
                #expect(methods.first?["controller"] as? String == did)
                #expect(document["authentication"] as? [String] == [methodID])
                #expect(document["assertionMethod"] as? [String] == [methodID])
            }
        }

        /// The first Ed25519 vector of the did:key test suite (w3c-ccg/did-method-key), also in
        /// `Tests/VouchKitTests/Vectors/did-key/ed25519-x25519.json`.
        @Test func resolvesTheOfficialEd25519Vector() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
                let methodID = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
                let outcome = try await vouch.run("did", "resolve", did)
                outcome.expectExit(0)
                let document = try outcome.jsonObject()
                #expect(document["id"] as? String == did)
                let methods = try #require(document["verificationMethod"] as? [[String: Any]])
                #expect(methods.map { $0["id"] as? String } == [methodID])
                #expect(methods.first?["controller"] as? String == did)
                #expect(methods.first?["publicKeyMultibase"] as? String == "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
                #expect(document["authentication"] as? [String] == [methodID])
                #expect(document["assertionMethod"] as? [String] == [methodID])
            }
        }

        /// The first P-256 vector of the did:key test suite, also in
        /// `Tests/VouchKitTests/Vectors/did-key/nist-curves.json`.
        @Test func resolvesTheOfficialP256Vector() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let did = "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"
                let outcome = try await vouch.run("did", "resolve", did)
                outcome.expectExit(0)
                let document = try outcome.jsonObject()
                #expect(document["id"] as? String == did)
                let methods = try #require(document["verificationMethod"] as? [[String: Any]])
                #expect(methods.map { $0["id"] as? String } == ["\(did)#zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"])
            }
        }

        @Test(arguments: [
            "not-a-did",
            "did:key:",
            "did:key:zzzz",
            "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW",  // one character short
            "did:example:123",
            "did:web:example.com",  // needs the network unless --document is given
        ])
        func rejectsADIDItCannotResolveAsAUsageError(_ did: String) async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let outcome = try await vouch.run("did", "resolve", did)
                outcome.expectUsageError()
            }
        }
    }
}

// MARK: - credential issue / verify

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
                let header = try CompactJWS.header(fixture.token)
                #expect(header["typ"] as? String == "vc+jwt")
                let payload = try CompactJWS.payload(fixture.token)
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
                var payload = try CompactJWS.payload(fixture.token)
                var subject = try #require(payload["credentialSubject"] as? [String: Any])
                subject["role"] = "admin"
                payload["credentialSubject"] = subject
                let forged = try CompactJWS.replacingPayload(of: fixture.token, with: payload)
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
                #expect(try CompactJWS.payload(token)["issuer"] as? String == did)
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

// MARK: - BitstringStatusListCredential as a status list

extension CLITests {
    /// The CLI has no command for status list credentials, but `credential issue` makes one: type
    /// `BitstringStatusListCredential` with the `BitstringStatusList` subject members as claims. Its
    /// `id` is a fresh `urn:uuid:`, so the credentials it covers name that id as their status list URL.
    @Suite("status list credential")
    struct StatusListCredentials {
        @Test func acceptsItAsVCJWT() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let setup = try await Setup(vouch, revoke: false)
                let outcome = try await vouch.run(
                    "credential", "verify", "@cred.jwt", "--trust", setup.issuer, "--status-list", "list.jwt")
                outcome.expectExit(0)
            }
        }

        @Test func acceptsItAsAnEnvelopedVerifiableCredential() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let setup = try await Setup(vouch, revoke: false)
                try setup.writeEnveloped(to: "list.json", in: vouch)
                let outcome = try await vouch.run(
                    "credential", "verify", "@cred.jwt", "--trust", setup.issuer, "--status-list", "list.json")
                outcome.expectExit(0)
            }
        }

        @Test func aSetBitInItRevokesTheCredential() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let setup = try await Setup(vouch, revoke: true)
                try setup.writeEnveloped(to: "list.json", in: vouch)
                for list in ["list.jwt", "list.json"] {
                    let outcome = try await vouch.run(
                        "credential", "verify", "@cred.jwt", "--trust", setup.issuer, "--status-list", list)
                    outcome.expectVerificationFailure(mentioning: "revoked")
                }
            }
        }

        /// A status list credential is checked against `--trust` like any other; one from an
        /// untrusted issuer fails verification before the credential is checked.
        @Test func refusesOneFromAnUntrustedIssuer() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let setup = try await Setup(vouch, revoke: false)
                try setup.writeEnveloped(to: "list.json", in: vouch)
                for list in ["list.jwt", "list.json"] {
                    let outcome = try await vouch.run(
                        "credential", "verify", "@cred.jwt", "--trust", setup.device, "--status-list", list)
                    outcome.expectVerificationFailure(mentioning: "not trusted")
                }
            }
        }

        @Test func refusesUnsignedJSON() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let setup = try await Setup(vouch, revoke: false)
                try vouch.write(#"{"type": "BitstringStatusListCredential"}"#, to: "unsigned.json")
                let outcome = try await vouch.run(
                    "credential", "verify", "@cred.jwt", "--trust", setup.issuer, "--status-list", "unsigned.json")
                outcome.expectUsageError()
            }
        }

        /// An issuer, a device, a status list credential `list.jwt` (index 7 set when `revoke`) and
        /// a credential `cred.jwt` whose status entry points at index 7 of it.
        struct Setup {
            let issuer: String
            let device: String
            let listToken: String

            init(_ vouch: VouchProcess, revoke: Bool) async throws {
                issuer = try await vouch.generateKey("issuer.jwk")
                device = try await vouch.generateKey("device.jwk")
                try await vouch.run("status-list", "new", "--out", "status.json").expectExit(0)
                if revoke {
                    try await vouch.run("status-list", "set", "status.json", "7").expectExit(0)
                }
                let status = try vouch.jsonObject("status.json")
                let claims: [String: Any] = [
                    "type": "BitstringStatusList",
                    "statusPurpose": try #require(status["statusPurpose"] as? String),
                    "encodedList": try #require(status["encodedList"] as? String),
                ]
                try vouch.write(try JSONSerialization.data(withJSONObject: claims), to: "list-claims.json")
                let list = try await vouch.run(
                    "credential", "issue", "--key", "issuer.jwk", "--subject", issuer,
                    "--type", "BitstringStatusListCredential", "--claims", "list-claims.json", "--valid-for", "1d")
                list.expectExit(0)
                listToken = try #require(list.lastOutputLine)
                try vouch.write(listToken, to: "list.jwt")
                let listID = try #require(try CompactJWS.payload(listToken)["id"] as? String)

                let credential = try await vouch.run(
                    "credential", "issue", "--key", "issuer.jwk", "--subject", device, "--type", "DeviceCredential",
                    "--status-list-url", listID, "--status-index", "7")
                credential.expectExit(0)
                try vouch.write(try #require(credential.lastOutputLine), to: "cred.jwt")
            }

            /// Writes the status list credential as a JSON EnvelopedVerifiableCredential.
            func writeEnveloped(to name: String, in vouch: VouchProcess) throws {
                let envelope: [String: Any] = [
                    "@context": ["https://www.w3.org/ns/credentials/v2"],
                    "type": ["EnvelopedVerifiableCredential"],
                    "id": "data:application/vc+jwt," + listToken,
                ]
                try vouch.write(try JSONSerialization.data(withJSONObject: envelope), to: name)
            }
        }
    }
}

// MARK: - presentation create / verify

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
                #expect(try CompactJWS.header(fixture.token)["typ"] as? String == "vp+jwt")
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

// MARK: - malformed tokens

extension CLITests {
    @Suite("malformed tokens")
    struct MalformedTokens {
        static let garbage: [String] = [
            "garbage",
            "",
            "a.b.c",
            "...",
            "eyJ",
            "e30.e30.e30",
            "eyJhbGciOiJub25lIn0.e30.",  // alg none, empty signature
            "eyJhbGciOiJFZERTQSJ9.W10.AAAA",  // payload is an array
            "eyJhbGciOiJFZERTQSJ9.bnVsbA.AAAA",  // payload is null
            "\u{FEFF}.\u{1}.\u{2}",
        ]

        @Test(arguments: garbage)
        func credentialVerifyReportsGarbageAsAFailure(_ token: String) async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let outcome = try await vouch.run("credential", "verify", token, "--trust", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
                outcome.expectExit(1)
                #expect(outcome.standardOutput.isEmpty, "\(outcome)")
                #expect(!outcome.standardError.isEmpty, "\(outcome)")

                let json = try await vouch.run("credential", "verify", token, "--json")
                json.expectExit(1)
                let result = try json.jsonObject()
                #expect(result["valid"] as? Bool == false)
                #expect((result["failures"] as? [Any])?.isEmpty == false)
            }
        }

        @Test(arguments: garbage)
        func presentationVerifyReportsGarbageAsAFailure(_ token: String) async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let outcome = try await vouch.run("presentation", "verify", token, "--nonce", "n", "--audience", "a")
                outcome.expectExit(1)
                #expect(outcome.standardOutput.isEmpty, "\(outcome)")
                #expect(!outcome.standardError.isEmpty, "\(outcome)")
            }
        }

        /// Every prefix of a real credential, and the credential with each part dropped or mangled.
        @Test func truncatedAndMangledCredentialsFailWithoutCrashing() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let issuer = try await vouch.generateKey("issuer.jwk")
                let device = try await vouch.generateKey("device.jwk")
                try await vouch.issueCredential(key: "issuer.jwk", subject: device, to: "cred.jwt")
                let token = try vouch.text("cred.jwt").trimmingCharacters(in: .whitespacesAndNewlines)
                let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                try #require(parts.count == 3)

                var variants: [String] = stride(from: 1, to: token.count, by: max(1, token.count / 12)).map { String(token.prefix($0)) }
                variants += [
                    String(token.dropLast()),
                    String(token.dropFirst()),
                    parts[0] + "." + parts[1],
                    parts[0] + "." + parts[1] + ".",
                    "." + parts[1] + "." + parts[2],
                    parts[0] + ".." + parts[2],
                    token + ".",
                    token + "x",
                    parts[1] + "." + parts[0] + "." + parts[2],
                    parts[0] + "." + parts[1] + "." + String(parts[2].reversed()),
                    parts[0] + "." + parts[1] + "." + parts[2] + parts[2],
                ]
                for variant in variants {
                    try await vouch.run("credential", "verify", variant, "--trust", issuer).expectExit(1)
                    try await vouch.run("presentation", "verify", variant, "--nonce", "n", "--audience", "a", "--trust", issuer)
                        .expectExit(1)
                }
            }
        }

        @Test func oversizedAndDeeplyNestedTokensFailWithoutCrashing() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let header = Base64URL.encode(Data(#"{"alg":"EdDSA","typ":"vc+jwt"}"#.utf8))
                let nested = Base64URL.encode(Data((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8))
                let nestedObject = Base64URL.encode(
                    Data((String(repeating: #"{"a":"#, count: 20_000) + "1" + String(repeating: "}", count: 20_000)).utf8))
                try vouch.write(header + "." + nested + ".AAAA", to: "nested.jwt")
                try vouch.write(nested + ".e30.AAAA", to: "nested-header.jwt")
                try vouch.write(header + "." + nestedObject + ".AAAA", to: "nested-object.jwt")
                try vouch.write(String(repeating: "a", count: 3_000_000) + ".b.c", to: "huge.jwt")
                for file in ["nested.jwt", "nested-header.jwt", "nested-object.jwt", "huge.jwt"] {
                    try await vouch.run("credential", "verify", "@" + file).expectExit(1)
                    try await vouch.run("presentation", "verify", "@" + file, "--nonce", "n", "--audience", "a").expectExit(1)
                }
            }
        }

        @Test func aMissingTokenFileIsAUsageError() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try await vouch.run("credential", "verify", "@missing-file").expectUsageError(mentioning: "missing-file")
                try await vouch.run("credential", "verify", "@missing-file", "--json").expectUsageError(mentioning: "missing-file")
                try await vouch.run("presentation", "verify", "@missing-file", "--nonce", "n", "--audience", "a")
                    .expectUsageError(mentioning: "missing-file")
                try await vouch.run("credential", "verify", "@").expectUsageError()
            }
        }

        @Test func aTokenFileThatIsNotUTF8IsAUsageError() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try vouch.write(Data([0xFF, 0xFE, 0x2E, 0x80, 0x2E, 0xC0]), to: "binary.jwt")
                try await vouch.run("credential", "verify", "@binary.jwt").expectUsageError()
            }
        }

        @Test func aMissingStatusListFileIsAUsageError() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try await vouch.run("credential", "verify", "e30.e30.e30", "--status-list", "missing.json")
                    .expectUsageError(mentioning: "missing.json")
            }
        }
    }
}

// MARK: - status-list

extension CLITests {
    @Suite("status-list")
    struct StatusLists {
        @Test func newSetCheckAndClearRoundTrip() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try await vouch.run("status-list", "new", "--size", "131072", "--out", "s.json").expectExit(0)
                let file = try vouch.jsonObject("s.json")
                #expect(file["type"] as? String == "BitstringStatusList")
                #expect(file["statusPurpose"] as? String == "revocation")
                #expect(file["size"] as? Int == 131_072)
                #expect((file["encodedList"] as? String)?.hasPrefix("u") == true)

                for index in [0, 5, 131_071] {
                    try await vouch.expectEntry(index, of: "s.json", is: "0")
                }
                try await vouch.run("status-list", "set", "s.json", "0", "5", "131071").expectExit(0)
                for index in [0, 5, 131_071] {
                    try await vouch.expectEntry(index, of: "s.json", is: "1")
                }
                for index in [1, 4, 6, 131_070] {
                    try await vouch.expectEntry(index, of: "s.json", is: "0")
                }
                try await vouch.run("status-list", "set", "s.json", "5", "--clear").expectExit(0)
                try await vouch.expectEntry(5, of: "s.json", is: "0")
                try await vouch.expectEntry(0, of: "s.json", is: "1")
                try await vouch.expectEntry(131_071, of: "s.json", is: "1")

                // Setting a set entry and clearing a clear one change nothing.
                try await vouch.run("status-list", "set", "s.json", "0").expectExit(0)
                try await vouch.run("status-list", "set", "s.json", "5", "--clear").expectExit(0)
                try await vouch.expectEntry(0, of: "s.json", is: "1")
                try await vouch.expectEntry(5, of: "s.json", is: "0")
            }
        }

        @Test func defaultSizeIsTheMinimumAndPurposeCanBeSuspension() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try await vouch.run("status-list", "new", "--out", "default.json").expectExit(0)
                #expect(try vouch.jsonObject("default.json")["size"] as? Int == 131_072)
                try await vouch.run("status-list", "new", "--size", "131080", "--purpose", "suspension", "--out", "s.json")
                    .expectExit(0)
                let file = try vouch.jsonObject("s.json")
                #expect(file["size"] as? Int == 131_080)
                #expect(file["statusPurpose"] as? String == "suspension")
                try await vouch.expectEntry(131_079, of: "s.json", is: "0")
            }
        }

        @Test func newRefusesToReplaceAFileWithoutForce() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try await vouch.run("status-list", "new", "--out", "s.json").expectExit(0)
                try await vouch.run("status-list", "set", "s.json", "3").expectExit(0)
                let before = try vouch.data("s.json")
                try await vouch.run("status-list", "new", "--out", "s.json").expectUsageError(mentioning: "--force")
                #expect(try vouch.data("s.json") == before)
                try await vouch.run("status-list", "new", "--out", "s.json", "--force").expectExit(0)
                try await vouch.expectEntry(3, of: "s.json", is: "0")
            }
        }

        @Test func anIndexOutOfRangeIsAUsageErrorAndChangesNothing() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try await vouch.run("status-list", "new", "--out", "s.json").expectExit(0)
                let before = try vouch.data("s.json")
                try await vouch.run("status-list", "check", "s.json", "131072").expectUsageError(mentioning: "131072")
                try await vouch.run("status-list", "set", "s.json", "131072").expectUsageError(mentioning: "131072")
                // Every index is checked before anything is written.
                try await vouch.run("status-list", "set", "s.json", "3", "131072").expectUsageError()
                try await vouch.run("status-list", "set", "s.json", "3", "x").expectUsageError()
                #expect(try vouch.data("s.json") == before)
                try await vouch.expectEntry(3, of: "s.json", is: "0")

                for index in ["-1", "x", "1.5", "99999999999999999999999"] {
                    try await vouch.run("status-list", "check", "s.json", index).expectUsageError()
                }
                try await vouch.run("status-list", "set", "s.json").expectUsageError()
                try await vouch.run("status-list", "check", "s.json").expectUsageError()
            }
        }

        @Test(arguments: ["8", "0", "-8", "131064", "131071", "131073", "200000000", "abc", ""])
        func aSizeThatIsTooSmallOrNotAWholeNumberOfBytesIsAUsageError(_ size: String) async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try await vouch.run("status-list", "new", "--size=\(size)", "--out", "s.json").expectUsageError()
                #expect(!vouch.exists("s.json"))
            }
        }

        @Test func aFileThatIsNotAStatusListIsAUsageError() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try vouch.write("{}", to: "empty.json")
                try vouch.write("not json", to: "text.json")
                try vouch.write(#"{"type":"BitstringStatusList","statusPurpose":"revocation","size":131072,"encodedList":"not-base64!"}"#, to: "bad.json")
                for file in ["missing.json", "empty.json", "text.json", "bad.json"] {
                    try await vouch.run("status-list", "check", file, "0").expectUsageError()
                    try await vouch.run("status-list", "set", file, "0").expectUsageError()
                }
            }
        }
    }
}

// MARK: - log

extension CLITests {
    /// Proofs from the transparency-dev/merkle test vectors (Apache 2.0), also in
    /// `Tests/VouchKitTests/Vectors/merkle/` with their LICENSE.
    @Suite("log")
    struct Log {
        struct Inclusion: Sendable, CustomTestStringConvertible {
            let vector: String
            let leafHash: String
            let index: Int
            let size: Int
            let root: String
            let proof: [String]
            let expectedStatus: Int32

            var testDescription: String { vector }

            var arguments: [String] {
                [
                    "log", "verify-inclusion", "--leaf-hash", leafHash, "--index", String(index), "--size", String(size),
                    "--root", root, "--proof", proof.joined(separator: ","),
                ]
            }

            /// The same case with every hash in hex.
            func hex() throws -> Inclusion {
                Inclusion(
                    vector: vector + " (hex)", leafHash: try Hex.fromBase64(leafHash), index: index, size: size,
                    root: try Hex.fromBase64(root), proof: try proof.map(Hex.fromBase64), expectedStatus: expectedStatus)
            }
        }

        static let root8 = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="
        static let leaf0 = "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="
        static let proof0of8 = [
            "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
        ]

        static let inclusions: [Inclusion] = [
            Inclusion(vector: "inclusion/0/happy-path", leafHash: leaf0, index: 0, size: 1, root: leaf0, proof: [], expectedStatus: 0),
            Inclusion(vector: "inclusion/1/happy-path", leafHash: leaf0, index: 0, size: 8, root: root8, proof: proof0of8, expectedStatus: 0),
            Inclusion(
                vector: "inclusion/2/happy-path", leafHash: "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", index: 5, size: 8, root: root8,
                proof: [
                    "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
                    "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
                    "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
                ], expectedStatus: 0),
            Inclusion(
                vector: "inclusion/3/happy-path", leafHash: "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", index: 2, size: 3,
                root: "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", proof: ["+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="],
                expectedStatus: 0),
            // wantErr vectors whose hashes are all well-formed: the proof does not verify.
            Inclusion(
                vector: "inclusion/1/modified-proof[0]-bit-@3", leafHash: leaf0, index: 0, size: 8, root: root8,
                proof: ["nqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c="] + proof0of8.dropFirst(), expectedStatus: 1),
            Inclusion(vector: "inclusion/1/leafIdx-plus-@1", leafHash: leaf0, index: 1, size: 8, root: root8, proof: proof0of8, expectedStatus: 1),
            Inclusion(vector: "inclusion/1/treeSize-div-@2", leafHash: leaf0, index: 0, size: 4, root: root8, proof: proof0of8, expectedStatus: 1),
            Inclusion(vector: "inclusion/1/treeSize-mul-@2", leafHash: leaf0, index: 0, size: 16, root: root8, proof: proof0of8, expectedStatus: 1),
            Inclusion(
                vector: "inclusion/1/random-root", leafHash: leaf0, index: 0, size: 8,
                root: "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", proof: proof0of8, expectedStatus: 1),
            Inclusion(
                vector: "inclusion/1/empty-root", leafHash: leaf0, index: 0, size: 8,
                root: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", proof: proof0of8, expectedStatus: 1),
            Inclusion(
                vector: "inclusion/1/removed-component", leafHash: leaf0, index: 0, size: 8, root: root8,
                proof: Array(proof0of8.dropLast()), expectedStatus: 1),
            Inclusion(
                vector: "inclusion/1/inserted-component", leafHash: leaf0, index: 0, size: 8, root: root8,
                proof: proof0of8 + [root8], expectedStatus: 1),
            Inclusion(vector: "index not below size", leafHash: leaf0, index: 9, size: 8, root: root8, proof: proof0of8, expectedStatus: 1),
            Inclusion(vector: "empty tree", leafHash: leaf0, index: 0, size: 0, root: leaf0, proof: [], expectedStatus: 1),
        ]

        @Test(arguments: inclusions)
        func verifyInclusionWithBase64Hashes(_ inclusion: Inclusion) async throws {
            try await Self.expect(inclusion)
        }

        @Test(arguments: inclusions)
        func verifyInclusionWithHexHashes(_ inclusion: Inclusion) async throws {
            try await Self.expect(try inclusion.hex())
        }

        @Test func acceptsURLSafeUnpaddedBase64AndUppercaseHex() async throws {
            let urlSafe = Self.root8.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(urlSafe.contains("-") || urlSafe.contains("_"))
            try await Self.expect(
                Inclusion(
                    vector: "inclusion/1/happy-path (URL-safe root, uppercase hex leaf)", leafHash: try Hex.fromBase64(Self.leaf0).uppercased(),
                    index: 0, size: 8, root: urlSafe, proof: Self.proof0of8, expectedStatus: 0))
        }

        private static func expect(_ inclusion: Inclusion, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let outcome = try await vouch.run(inclusion.arguments)
                outcome.expectExit(inclusion.expectedStatus, sourceLocation: sourceLocation)
                if inclusion.expectedStatus == 0 {
                    #expect(outcome.standardOutput.hasPrefix("OK "), "\(outcome)", sourceLocation: sourceLocation)
                    #expect(outcome.standardError.isEmpty, "\(outcome)", sourceLocation: sourceLocation)
                } else {
                    #expect(outcome.standardOutput.isEmpty, "\(outcome)", sourceLocation: sourceLocation)
                    #expect(outcome.standardError.hasPrefix("FAIL "), "\(outcome)", sourceLocation: sourceLocation)
                }
            }
        }

        @Test func malformedInclusionHashesAreUsageErrors() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let proof = Self.proof0of8.joined(separator: ",")
                let cases: [(leaf: String, root: String, proof: String, option: String)] = [
                    ("V3JvbmdMZWFm", Self.root8, proof, "--leaf-hash"),  // inclusion/1/wrong-leaf: 9 bytes
                    (Self.leaf0, "zz", proof, "--root"),
                    (Self.leaf0, String(repeating: "a", count: 63), proof, "--root"),
                    (Self.leaf0, String(repeating: "g", count: 64), proof, "--root"),
                    (Self.leaf0, String(repeating: "ab", count: 33), proof, "--root"),
                    (Self.leaf0, Self.root8, proof + ",", "--proof"),
                    (Self.leaf0, Self.root8, "," + proof, "--proof"),
                    (Self.leaf0, Self.root8, proof + ",not-a-hash", "--proof"),
                    ("", Self.root8, proof, "--leaf-hash"),
                ]
                for item in cases {
                    let outcome = try await vouch.run(
                        "log", "verify-inclusion", "--leaf-hash", item.leaf, "--index", "0", "--size", "8",
                        "--root", item.root, "--proof", item.proof)
                    outcome.expectUsageError(mentioning: item.option)
                }
                for (index, size) in [("-1", "8"), ("x", "8"), ("0", "-8"), ("0", "eight")] {
                    let outcome = try await vouch.run(
                        "log", "verify-inclusion", "--leaf-hash", Self.leaf0, "--index=\(index)", "--size=\(size)",
                        "--root", Self.root8, "--proof", proof)
                    outcome.expectUsageError()
                }
                try await vouch.run("log", "verify-inclusion", "--leaf-hash", Self.leaf0, "--index", "0", "--size", "8", "--root", Self.root8)
                    .expectUsageError(mentioning: "--proof")
            }
        }

        struct Consistency: Sendable, CustomTestStringConvertible {
            let vector: String
            let oldSize: Int
            let oldRoot: String
            let size: Int
            let root: String
            let proof: [String]
            let expectedStatus: Int32

            var testDescription: String { vector }
        }

        static let consistencies: [Consistency] = [
            Consistency(vector: "consistency/0/happy-path", oldSize: 1, oldRoot: leaf0, size: 1, root: leaf0, proof: [], expectedStatus: 0),
            Consistency(vector: "consistency/1/happy-path", oldSize: 1, oldRoot: leaf0, size: 8, root: root8, proof: proof0of8, expectedStatus: 0),
            Consistency(
                vector: "consistency/2/happy-path", oldSize: 6, oldRoot: "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", size: 8, root: root8,
                proof: [
                    "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
                    "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
                    "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
                ], expectedStatus: 0),
            Consistency(
                vector: "consistency/3/happy-path", oldSize: 2, oldRoot: "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", size: 5,
                root: "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
                proof: ["Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="], expectedStatus: 0),
            Consistency(vector: "consistency/1/swapped-roots", oldSize: 1, oldRoot: root8, size: 8, root: leaf0, proof: proof0of8, expectedStatus: 1),
            Consistency(
                vector: "consistency/1/modified-proof@0-bit-@4", oldSize: 1, oldRoot: leaf0, size: 8, root: root8,
                proof: ["hqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c="] + proof0of8.dropFirst(), expectedStatus: 1),
            Consistency(vector: "consistency/1/empty-proof", oldSize: 1, oldRoot: leaf0, size: 8, root: root8, proof: [], expectedStatus: 1),
            Consistency(
                vector: "consistency/1/truncated-proof", oldSize: 1, oldRoot: leaf0, size: 8, root: root8, proof: Array(proof0of8.dropLast()),
                expectedStatus: 1),
            Consistency(vector: "consistency/1/size2-mul-@2", oldSize: 1, oldRoot: leaf0, size: 16, root: root8, proof: proof0of8, expectedStatus: 1),
            Consistency(vector: "old size above new size", oldSize: 9, oldRoot: leaf0, size: 8, root: root8, proof: proof0of8, expectedStatus: 1),
            Consistency(vector: "equal sizes, different roots", oldSize: 8, oldRoot: leaf0, size: 8, root: root8, proof: [], expectedStatus: 1),
        ]

        @Test(arguments: consistencies)
        func verifyConsistency(_ consistency: Consistency) async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                for hex in [false, true] {
                    func encode(_ hash: String) throws -> String { hex ? try Hex.fromBase64(hash) : hash }
                    let outcome = try await vouch.run(
                        "log", "verify-consistency", "--old-size", String(consistency.oldSize), "--old-root", try encode(consistency.oldRoot),
                        "--size", String(consistency.size), "--root", try encode(consistency.root),
                        "--proof", try consistency.proof.map(encode).joined(separator: ","))
                    outcome.expectExit(consistency.expectedStatus)
                    if consistency.expectedStatus == 0 {
                        #expect(outcome.standardOutput.hasPrefix("OK "), "\(outcome)")
                    } else {
                        #expect(outcome.standardOutput.isEmpty, "\(outcome)")
                        #expect(outcome.standardError.hasPrefix("FAIL "), "\(outcome)")
                    }
                }
            }
        }

        @Test func malformedConsistencyHashesAreUsageErrors() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let proof = Self.proof0of8.joined(separator: ",")
                // consistency/1/wrong-root2: "WrongRoot", 9 bytes.
                try await vouch.run(
                    "log", "verify-consistency", "--old-size", "1", "--old-root", Self.leaf0, "--size", "8", "--root", "V3JvbmdSb290",
                    "--proof", proof
                ).expectUsageError(mentioning: "--root")
                try await vouch.run(
                    "log", "verify-consistency", "--old-size", "1", "--old-root", "nope", "--size", "8", "--root", Self.root8,
                    "--proof", proof
                ).expectUsageError(mentioning: "--old-root")
                try await vouch.run(
                    "log", "verify-consistency", "--old-size", "1", "--old-root", Self.leaf0, "--size", "8", "--root", Self.root8,
                    "--proof", proof + ",,"
                ).expectUsageError(mentioning: "--proof")
                try await vouch.run(
                    "log", "verify-consistency", "--old-size", "1", "--old-root", Self.leaf0, "--size", "8", "--root", Self.root8
                ).expectUsageError(mentioning: "--proof")
            }
        }

        // MARK: verify-checkpoint

        /// The Go checksum database's published verifier key (built into the `go` command).
        static let sumDBKey = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"

        /// A checkpoint signed by sum.golang.org, as served by the Go checksum database. The CLI
        /// cannot sign checkpoints, so this real one stands in; it verifies under ``sumDBKey``.
        static let sumDBCheckpoint = """
            go.sum database tree
            63096908
            8lHrQPRYe4KT4WQ9/Qk8/taKnD6IRHbFgfN7vQE2Y54=

            \u{2014} sum.golang.org Az3gri/oVBN1jAhNZ/iS+W31psFAWRT20/GyrhpU6taFwulQGetBkH5S7wpGXdS935jiIGiUUAXBVHzT/P6fYhqAmAk=

            """

        /// The verifier key of the signed-note example in golang.org/x/mod/sumdb/note.
        static let peterNeumannKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

        /// The signed-note example of golang.org/x/mod/sumdb/note: validly signed, but not a checkpoint.
        static let peterNeumannNote = """
            If you think cryptography is the answer to your problem,
            then you don't know what your problem is.

            \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=

            """

        @Test func verifiesARealSignedCheckpoint() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try vouch.write(Self.sumDBCheckpoint, to: "checkpoint")
                let expected = [
                    "OK checkpoint verified",
                    "origin: go.sum database tree",
                    "size: 63096908",
                    "root: 8lHrQPRYe4KT4WQ9/Qk8/taKnD6IRHbFgfN7vQE2Y54=",
                ]
                let outcome = try await vouch.run("log", "verify-checkpoint", "--key", Self.sumDBKey, "checkpoint")
                outcome.expectExit(0)
                #expect(outcome.outputLines == expected)
                #expect(outcome.standardError.isEmpty)

                let fromStandardInput = try await vouch.run(
                    ["log", "verify-checkpoint", "--key", Self.sumDBKey, "-"], standardInput: Data(Self.sumDBCheckpoint.utf8))
                fromStandardInput.expectExit(0)
                #expect(fromStandardInput.outputLines == expected)

                // Any one trusted key that signed it is enough.
                let twoKeys = try await vouch.run(
                    "log", "verify-checkpoint", "--key", Self.peterNeumannKey, "--key", Self.sumDBKey, "checkpoint")
                twoKeys.expectExit(0)
            }
        }

        @Test func failsForAnAlteredCheckpoint() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try vouch.write(Self.sumDBCheckpoint.replacingOccurrences(of: "63096908", with: "63096909"), to: "checkpoint")
                let outcome = try await vouch.run("log", "verify-checkpoint", "--key", Self.sumDBKey, "checkpoint")
                outcome.expectVerificationFailure(mentioning: "sum.golang.org")
            }
        }

        @Test func failsWithoutASignatureByATrustedKey() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try vouch.write(Self.sumDBCheckpoint, to: "checkpoint")
                let outcome = try await vouch.run("log", "verify-checkpoint", "--key", Self.peterNeumannKey, "checkpoint")
                outcome.expectVerificationFailure(mentioning: "trusted")
            }
        }

        @Test func failsForASignedNoteThatIsNotACheckpointOrNotANote() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try vouch.write(Self.peterNeumannNote, to: "note")
                try await vouch.run("log", "verify-checkpoint", "--key", Self.peterNeumannKey, "note")
                    .expectVerificationFailure(mentioning: "checkpoint")
                try vouch.write("garbage\n", to: "garbage")
                try await vouch.run("log", "verify-checkpoint", "--key", Self.sumDBKey, "garbage")
                    .expectVerificationFailure(mentioning: "checkpoint")
                try vouch.write(String(Self.sumDBCheckpoint.prefix(100)), to: "truncated")
                try await vouch.run("log", "verify-checkpoint", "--key", Self.sumDBKey, "truncated")
                    .expectVerificationFailure(mentioning: "checkpoint")
            }
        }

        @Test func anUnusableKeyOrFileIsAUsageError() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try vouch.write(Self.sumDBCheckpoint, to: "checkpoint")
                try vouch.write(Data([0xFF, 0xFE, 0x0A]), to: "binary")
                let badKeys = [
                    "not-a-key",
                    "sum.golang.org+033de0af+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",  // key ID does not match
                    "sum.golang.org+033de0ae+Ac4zctda0e5eza",  // key too short
                    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8!",
                    "+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
                ]
                for key in badKeys {
                    try await vouch.run("log", "verify-checkpoint", "--key", key, "checkpoint").expectUsageError(mentioning: "--key")
                }
                try await vouch.run("log", "verify-checkpoint", "--key", Self.sumDBKey, "missing").expectUsageError(mentioning: "missing")
                try await vouch.run("log", "verify-checkpoint", "--key", Self.sumDBKey, "binary").expectUsageError()
                try await vouch.run("log", "verify-checkpoint", "checkpoint").expectUsageError(mentioning: "--key")
            }
        }
    }
}

// MARK: - Helpers

extension VouchProcess {
    /// Generates a key into `file` and returns its did:key, the last line of output.
    func generateKey(_ file: String, type: String = "ed25519", sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let outcome = try await run("keys", "generate", "--type", type, "--out", file)
        outcome.expectExit(0, sourceLocation: sourceLocation)
        return try #require(outcome.lastOutputLine, sourceLocation: sourceLocation)
    }

    /// Issues a `DeviceCredential` about `subject` signed with `key` and writes it to `file`.
    func issueCredential(
        key: String, subject: String, to file: String, extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let outcome = try await run(
            ["credential", "issue", "--key", key, "--subject", subject, "--type", "DeviceCredential", "--valid-for", "1d"] + extra)
        outcome.expectExit(0, sourceLocation: sourceLocation)
        try write(try #require(outcome.lastOutputLine, sourceLocation: sourceLocation) + "\n", to: file)
    }

    /// Expects `status-list check` to print `bit` for `index` of `file`.
    func expectEntry(_ index: Int, of file: String, is bit: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let outcome = try await run("status-list", "check", file, String(index))
        outcome.expectExit(0, sourceLocation: sourceLocation)
        #expect(outcome.standardOutput == bit + "\n", "entry \(index): \(outcome)", sourceLocation: sourceLocation)
    }
}

/// Looking inside compact JWS tokens, and forging altered ones.
private enum CompactJWS {
    static func header(_ token: String) throws -> [String: Any] {
        try object(try part(0, of: token))
    }

    static func payload(_ token: String) throws -> [String: Any] {
        try object(try part(1, of: token))
    }

    /// The token with its payload replaced and its signature kept.
    static func replacingPayload(of token: String, with payload: [String: Any]) throws -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        try #require(parts.count == 3)
        let encoded = Base64URL.encode(try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]))
        return [String(parts[0]), encoded, String(parts[2])].joined(separator: ".")
    }

    private static func part(_ index: Int, of token: String) throws -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        try #require(parts.count == 3, "not a compact JWS: \(token)")
        return String(parts[index])
    }

    private static func object(_ segment: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Base64URL.decode(segment)) as? [String: Any])
    }
}

/// Unpadded base64url (RFC 7515 §2).
private enum Base64URL {
    static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) throws -> Data {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        return try #require(Data(base64Encoded: base64), "not base64url: \(text)")
    }
}

/// Hex spellings of hashes given in base64.
private enum Hex {
    /// The lowercase hex of the bytes that standard base64 `text` encodes.
    static func fromBase64(_ text: String) throws -> String {
        let data = try #require(Data(base64Encoded: text), "not base64: \(text)")
        return data.map { String(format: "%02x", $0) }.joined()
    }
}
