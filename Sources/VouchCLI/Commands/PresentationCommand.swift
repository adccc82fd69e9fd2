import ArgumentParser
import Foundation
import VouchKit

/// `vouch presentation ...`: present credentials to a verifier and verify presentations.
struct PresentationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presentation", abstract: "Create and verify verifiable presentations (vp+jwt).",
        subcommands: [Create.self, Verify.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Present credentials as the holder, bound to a verifier's nonce and audience.")

        @Option(help: "The holder's private JWK file; the holder is its did:key.")
        var key: String

        @Option(help: "A credential to present, as a token or @FILE (repeatable).")
        var credential: [String]

        @Option(help: "The verifier's nonce.")
        var nonce: String

        @Option(help: "The verifier (its DID or URL).")
        var audience: String

        @Option(help: "How long the presentation is valid, such as 5m.")
        var validFor: String = "5m"

        func run() async throws {
            guard !credential.isEmpty else { throw ValidationError("give at least one --credential") }
            guard !nonce.isEmpty, !audience.isEmpty else { throw ValidationError("--nonce and --audience must not be empty") }
            let holderKey = try CLIInput.signingKey(key)
            let tokens = try credential.map(CLIInput.tokenOrFile)
            let lifetime = try CLIInput.duration(validFor)
            guard lifetime <= 86_400 else { throw ValidationError("--valid-for may be at most 24h for a presentation") }
            print(try await Presentation.create(credentials: tokens, holderKey: holderKey, nonce: nonce, audience: audience, validFor: lifetime))
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a vp+jwt offline: holder signature, nonce, audience, freshness, holder binding and every credential.")

        @Argument(help: "The presentation, or @FILE.")
        var token: String

        @Option(help: "The nonce this verifier issued.")
        var nonce: String

        @Option(help: "This verifier's identity (the expected aud).")
        var audience: String

        @Option(help: "A trusted credential issuer DID (repeatable).")
        var trust: [String] = []

        @Option(help: "A status list file or status list credential (repeatable).")
        var statusList: [String] = []

        @Option(name: .customLong("trust-bundle"), help: "A trust bundle (trust-bundle.json from `vouch device enroll`): its issuers are trusted, its keys used and, without --status-list, its cached status lists checked.")
        var trustBundle: String?

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() async throws {
            let presentation = try CLIInput.tokenOrFile(token)
            var trusted = Set(trust)
            var bundle: TrustBundle?
            if let trustBundle { bundle = try await CLIInput.trustBundle(trustBundle) }
            if let bundle { trusted.formUnion(bundle.trustedIssuers.map(\.id)) }
            var lists = try await CLIInput.statusLists(statusList, trust: bundle, trusted: trusted, json: json)
            if lists.isEmpty, let bundle { lists = bundle.statusLists }
            let resolver = MultiMethodResolver()
            let credentials = CredentialVerifier.standard(trust: bundle, resolver: resolver, trustedIssuers: trusted, statusLists: lists)
            let verifier = PresentationVerifier.standard(nonce: nonce, audience: audience, trust: bundle, resolver: resolver, credentialVerifier: credentials)
            switch await verifier.verify(presentation) {
            case .valid(let verified):
                if json {
                    CLIOutput.json([
                        "valid": true, "failures": [], "holder": .string(verified.presentation.holder),
                        "credentials": .array(verified.credentials.map(\.json)),
                    ])
                } else {
                    print("valid presentation from \(verified.presentation.holder)")
                    for credential in verified.credentials {
                        print("  credential: \(credential.types.joined(separator: ", ")) issued by \(credential.issuer)")
                    }
                }
            case .invalid(let failures):
                if json {
                    CLIOutput.json(["valid": false, "failures": CLIOutput.failuresJSON(failures)])
                } else {
                    CLIOutput.error("invalid presentation:")
                    failures.forEach { CLIOutput.error("  - \($0)") }
                }
                throw ExitCode(1)
            }
        }
    }
}
