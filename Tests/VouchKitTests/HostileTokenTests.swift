import Foundation
import Testing
import VouchTesting
@testable import VouchKit

/// Every verifier (credential, presentation, telemetry, challenge) refuses the same families of
/// hostile input: truncated and garbled tokens, `alg: none`, an algorithm that does not match the
/// key, and a `kid` of another DID.
@Suite("Hostile tokens, every verifier")
struct HostileTokenTests {
    enum Kind: String, CaseIterable, Sendable {
        case credential, presentation, telemetry, challenge
    }

    /// A valid token of `kind`, the check that verifies it, and a way to sign the same claims with another key.
    struct Case: Sendable {
        let token: String
        let verify: @Sendable (String) async -> Bool
    }

    static func makeCase(_ kind: Kind) async throws -> Case {
        let authority = TestAuthority()
        let device = DeviceAgent()
        let audience = "https://gateway.vouch.test"
        switch kind {
        case .credential:
            let verifier = CredentialVerifier.standard(trustedIssuers: [authority.did], statusLists: try authority.statusLists())
            return Case(token: try await authority.identityCredential(for: device.did)) { await verifier.verify($0).isValid }
        case .presentation:
            let credential = try await authority.identityCredential(for: device.did)
            let verifier = PresentationVerifier.standard(
                nonce: "n", audience: audience,
                credentialVerifier: .standard(trustedIssuers: [authority.did], statusLists: try authority.statusLists()))
            return Case(token: try await device.present([credential], nonce: "n", audience: audience)) { await verifier.verify($0).isValid }
        case .telemetry:
            let verifier = TelemetryVerifier()
            return Case(token: try await device.telemetry(topic: "t", payload: Data("x".utf8))) {
                (try? await verifier.verify($0).get()) != nil
            }
        case .challenge:
            let store = NonceStore()
            let verifier = ChallengeVerifier(store: store, audience: audience)
            // Many nonces for the same answer would be pointless; each mutant gets checked against a
            // store holding the original nonce, which stays unconsumed as long as every mutant fails.
            let challenge = try store.issue(audience: audience)
            return Case(token: try await device.answer(challenge)) { (try? await verifier.verify($0).get()) != nil }
        }
    }

    static func mutants(of token: String) -> [String] {
        var result = [String]()
        for length in stride(from: 0, to: token.count, by: max(1, token.count / 40)) { result.append(String(token.prefix(length))) }
        var bytes = Array(token.utf8)
        for index in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 60)) {
            let original = bytes[index]
            bytes[index] = original == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            result.append(String(decoding: bytes, as: UTF8.self))
            bytes[index] = original
        }
        result += ["", ".", "..", "...", "a.b.c", "e30.e30.e30", token + ".", token + "x", String(token.reversed())]
        return result.filter { $0 != token }
    }

    static func reheader(_ token: String, _ edit: (inout [String: JSONValue]) -> Void, dropSignature: Bool = false) throws -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var header = try JSONValue(parsing: Base64URL.decode(parts[0])!).objectValue!
        edit(&header)
        let encoded = Base64URL.encode(Array(JSONValue.object(header).jsonData()))
        return [encoded, parts[1], dropSignature ? "" : parts[2]].joined(separator: ".")
    }

    @Test("truncated and garbled tokens are refused", arguments: Kind.allCases)
    func garbled(kind: Kind) async throws {
        let testCase = try await Self.makeCase(kind)
        for mutant in Self.mutants(of: testCase.token) {
            #expect(await testCase.verify(mutant) == false, "\(kind) accepted \(mutant)")
        }
        #expect(await testCase.verify(testCase.token), "\(kind) refused its valid token")
    }

    @Test("alg none, a mismatched alg and a kid of another DID are refused", arguments: Kind.allCases)
    func headers(kind: Kind) async throws {
        let testCase = try await Self.makeCase(kind)
        let otherKid = DID(key: SigningKey.generate().publicKey).didKeyVerificationMethod.description
        let forged = [
            try Self.reheader(testCase.token, { $0["alg"] = "none" }, dropSignature: true),
            try Self.reheader(testCase.token, { $0["alg"] = "none" }),
            try Self.reheader(testCase.token, { $0["alg"] = "ES256" }),
            try Self.reheader(testCase.token, { $0["alg"] = "HS256" }),
            try Self.reheader(testCase.token, { $0["kid"] = .string(otherKid) }),
            try Self.reheader(testCase.token, { $0["kid"] = nil }),
            try Self.reheader(testCase.token, { $0["crit"] = ["b64"] }),
        ]
        for token in forged {
            #expect(await testCase.verify(token) == false, "\(kind) accepted \(token)")
        }
        #expect(await testCase.verify(testCase.token), "\(kind) refused its valid token")
    }
}
