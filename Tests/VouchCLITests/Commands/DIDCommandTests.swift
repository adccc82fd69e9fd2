import Foundation
import Testing

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
