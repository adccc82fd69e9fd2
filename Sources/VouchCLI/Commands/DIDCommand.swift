import ArgumentParser
import Foundation
import VouchKit

/// `vouch did ...`: DIDs and their documents.
struct DIDCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "did", abstract: "Resolve DIDs.", subcommands: [Resolve.self])

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the DID document of a did:key (offline) or of a did:web from a local copy.")

        @Argument(help: "The DID.")
        var did: String

        @Option(help: "For did:web: a local copy of the document to check and print instead of fetching it.")
        var document: String?

        func run() async throws {
            let parsed = try CLIInput.did(did, what: "DID")
            let resolver: any DIDResolver
            switch parsed.method {
            case "key":
                resolver = DIDKeyResolver()
            case "web":
                guard let document else {
                    throw ValidationError("did:web resolution needs the network; fetch \((try? DIDWeb.documentURL(for: parsed).absoluteString) ?? "the document") and pass it with --document FILE")
                }
                let data = Data(try CLIInput.readText(document).utf8)
                resolver = DIDWebResolver(fetch: { _ in data })
            default:
                throw ValidationError("DID method \(parsed.method) is not supported; use did:key or did:web")
            }
            do {
                let resolved = try await resolver.resolve(parsed)
                print(String(decoding: resolved.jsonData(pretty: true), as: UTF8.self))
            } catch let error as VouchKitError {
                throw ValidationError(error.reason)
            }
        }
    }
}
