import Foundation
import Testing

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
                let header = Base64URLText.encode(Data(#"{"alg":"EdDSA","typ":"vc+jwt"}"#.utf8))
                let nested = Base64URLText.encode(Data((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8))
                let nestedObject = Base64URLText.encode(
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
