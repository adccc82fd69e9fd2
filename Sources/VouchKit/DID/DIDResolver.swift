import Foundation

/// Turns a DID into its DID document.
public protocol DIDResolver: Sendable {
    /// Resolves `did`, or throws when it cannot be resolved.
    func resolve(_ did: DID) async throws -> DIDDocument
}

/// Resolves did:key DIDs with no I/O.
public struct DIDKeyResolver: DIDResolver {
    /// Creates the resolver.
    public init() {}

    public func resolve(_ did: DID) async throws -> DIDDocument {
        try DIDDocument(didKey: did)
    }
}

/// Resolves did:web DIDs through a fetch function the caller supplies (an HTTP client, a cache, a
/// trust bundle), and checks that the document is about the DID asked for.
public struct DIDWebResolver: DIDResolver {
    private let fetch: @Sendable (URL) async throws -> Data

    /// Creates a resolver that reads documents with `fetch`.
    public init(fetch: @escaping @Sendable (URL) async throws -> Data) {
        self.fetch = fetch
    }

    public func resolve(_ did: DID) async throws -> DIDDocument {
        let url = try DIDWeb.documentURL(for: did)
        let document = try DIDDocument(json: try await fetch(url))
        guard document.id == did.description else {
            throw VouchKitError.malformedInput("document at \(url) is about \(document.id), not \(did)")
        }
        return document
    }
}

/// Dispatches to one resolver per DID method; did:key is always included.
public struct MultiMethodResolver: DIDResolver {
    private let resolvers: [String: any DIDResolver]

    /// Creates a resolver from per-method resolvers, such as `["web": DIDWebResolver(fetch: ...)]`.
    public init(_ resolvers: [String: any DIDResolver] = [:]) {
        var all = resolvers
        if all["key"] == nil { all["key"] = DIDKeyResolver() }
        self.resolvers = all
    }

    public func resolve(_ did: DID) async throws -> DIDDocument {
        guard let resolver = resolvers[did.method] else {
            throw VouchKitError.unsupported("no resolver for DID method \"\(did.method)\" (\(did))")
        }
        return try await resolver.resolve(did)
    }
}
