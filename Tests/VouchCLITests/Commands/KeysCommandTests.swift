import Foundation
import Testing

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
                    #expect(try Base64URLText.decode(value).count == 32, "JWK member \(member) is not 32 bytes")
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
