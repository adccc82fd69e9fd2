import Foundation
import Testing

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
                let listID = try #require(try JWSParts.payload(listToken)["id"] as? String)

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
