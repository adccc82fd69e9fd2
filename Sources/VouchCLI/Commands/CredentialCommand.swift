import ArgumentParser
import Foundation
import VouchAPI
import VouchKit

/// `vouch credential ...`: issue and verify `vc+jwt` credentials.
struct CredentialCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credential", abstract: "Issue and verify verifiable credentials (vc+jwt).",
        subcommands: [Issue.self, Verify.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a vc+jwt about a subject DID and print it.")

        @Option(help: "The issuer's private JWK file; the issuer is its did:key.")
        var key: String

        @Option(help: "The subject's DID (credentialSubject.id).")
        var subject: String

        @Option(help: "The credential type, after VerifiableCredential.")
        var type: String

        @Option(help: "A JSON object file whose members are added to credentialSubject.")
        var claims: String?

        @Option(help: "Validity period, such as 90s, 15m, 12h, 30d, 2w.")
        var validFor: String?

        @Option(help: "URL of the BitstringStatusListCredential this credential's status is in.")
        var statusListUrl: String?

        @Option(help: "Index of this credential in that status list.")
        var statusIndex: Int?

        @Option(help: "Status purpose: revocation or suspension.")
        var statusPurpose: String = "revocation"

        func validate() throws {
            if (statusListUrl == nil) != (statusIndex == nil) {
                throw ValidationError("--status-list-url and --status-index go together")
            }
            if let statusIndex, statusIndex < 0 { throw ValidationError("--status-index must be 0 or more") }
        }

        func run() async throws {
            let signingKey = try CLIInput.signingKey(key)
            let subjectDID = try CLIInput.did(subject, what: "--subject")
            var members: [String: JSONValue] = [:]
            if let claims {
                let text = try CLIInput.readText(claims)
                guard let json = try? JSONValue(parsing: Data(text.utf8)), let object = json.objectValue else {
                    throw ValidationError("--claims \(claims) must hold a JSON object")
                }
                guard object["id"] == nil else { throw ValidationError("--claims must not set \"id\"; use --subject") }
                members = object
            }
            var status: [CredentialStatusEntry] = []
            if let statusListUrl, let statusIndex {
                guard let purpose = StatusPurpose(rawValue: statusPurpose) else {
                    throw ValidationError("--status-purpose must be revocation or suspension")
                }
                status.append(CredentialStatusEntry(listURL: statusListUrl, index: statusIndex, purpose: purpose))
            }
            let lifetime = try validFor.map(CLIInput.duration)
            let token = try await CredentialIssuer(key: signingKey).issue(
                types: [type], subject: subjectDID.description, claims: members, validFor: lifetime, status: status)
            print(token)
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a vc+jwt offline: signature, media type, validity, trusted issuer and status.")

        @Argument(help: "The credential, or @FILE.")
        var token: String

        @Option(help: "A trusted issuer DID (repeatable). Without one, no issuer is trusted.")
        var trust: [String] = []

        @Option(help: "A status list: a file from `vouch status-list new`, or a BitstringStatusListCredential (repeatable).")
        var statusList: [String] = []

        @Option(name: .customLong("trust-bundle"), help: "A trust bundle (trust-bundle.json from `vouch device enroll`, or the token from GET /v1/trust-bundle): its issuers are trusted and its keys used.")
        var trustBundle: String?

        @Flag(name: .customLong("fetch-status"), help: "Fetch the status lists the credential names (online), instead of relying on given or cached ones.")
        var fetchStatus = false

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() async throws {
            let credential = try CLIInput.tokenOrFile(token)
            var trusted = Set(trust)
            var bundle: TrustBundle?
            if let trustBundle { bundle = try await CLIInput.trustBundle(trustBundle) }
            if let bundle { trusted.formUnion(bundle.trustedIssuers.map(\.id)) }
            var lists = try await CLIInput.statusLists(statusList, trust: bundle, trusted: trusted, json: json)
            if fetchStatus {
                let parsed = try CompactJWS(parsing: credential)
                let urls = Set(try Credential(payload: parsed.payload).status.map(\.statusListCredential))
                for url in urls.sorted() {
                    let answer = try await URLSessionTransport.get(url)
                    guard answer.status == 200 else {
                        CLIOutput.error("Error: \(url) answered HTTP \(answer.status)")
                        throw ExitCode(1)
                    }
                    let token = answer.text
                    do {
                        lists.append(try await StatusListCredential.verify(token, trust: bundle, trustedIssuers: trusted))
                    } catch {
                        CLIOutput.error("cannot use the status list \(url): \(error)")
                        throw ExitCode(1)
                    }
                }
            } else if lists.isEmpty, let bundle {
                lists = bundle.statusLists
            }
            let verifier = CredentialVerifier.standard(trust: bundle, resolver: MultiMethodResolver(), trustedIssuers: trusted, statusLists: lists)
            let result = await verifier.verify(credential)
            switch result {
            case .valid(let verified):
                if json {
                    CLIOutput.json(["valid": true, "failures": [], "credential": verified.credential.json])
                } else {
                    let c = verified.credential
                    print("valid: \(c.types.joined(separator: ", "))")
                    print("issuer: \(c.issuer)")
                    print("subject: \(c.subjectIDs.joined(separator: ", "))")
                    if let until = c.validUntil { print("validUntil: \(until)") }
                }
            case .invalid(let failures):
                if json {
                    CLIOutput.json(["valid": false, "failures": CLIOutput.failuresJSON(failures)])
                } else {
                    CLIOutput.error("invalid credential:")
                    failures.forEach { CLIOutput.error("  - \($0)") }
                }
                throw ExitCode(1)
            }
        }
    }
}
