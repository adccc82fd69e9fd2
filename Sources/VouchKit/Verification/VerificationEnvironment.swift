/// What policies consult besides the token: the trust bundle, the DID resolver and the key cache.
public struct VerificationEnvironment: Sendable {
    /// Trusted issuers, their keys and status lists, when verifying offline from a bundle.
    public let trust: TrustBundle?
    /// Resolves DIDs that the bundle does not cover.
    public let resolver: any DIDResolver
    let keyCache: KeyCache

    /// Creates an environment.
    public init(trust: TrustBundle? = nil, resolver: any DIDResolver = DIDKeyResolver()) {
        self.trust = trust
        self.resolver = resolver
        self.keyCache = KeyCache()
    }

    /// Resolves the key a JWS names in `kid` and checks that it belongs to `controller` (the issuer
    /// or holder) and is listed for `relationship`. Returns the key, or the reason it cannot be used.
    func resolveKey(kid: String?, controller: String, relationship: DIDDocument.Relationship) async -> Result<PublicKey, VerificationFailure> {
        guard let kid, !kid.isEmpty else {
            return .failure(VerificationFailure(.signature, "the JWS header has no kid"))
        }
        // The cache key binds kid, controller and relationship: a hit proves all three were checked.
        let cacheKey = "\(relationship.rawValue) \(controller) \(kid)"
        if let cached = keyCache.key(for: cacheKey) {
            return .success(cached)
        }
        if let url = try? DIDURL(kid) {
            guard url.did.description == controller else {
                return .failure(VerificationFailure(.signature, "kid \(kid) belongs to \(url.did), not to \(controller)"))
            }
            if url.did.method == "key" {
                guard url.fragment == url.did.methodSpecificID, url.path.isEmpty, url.query == nil else {
                    return .failure(VerificationFailure(.signature, "kid \(kid) is not the verification method of \(url.did)"))
                }
                do {
                    let key = try url.did.didKeyPublicKey()
                    keyCache.insert(key, for: cacheKey)
                    return .success(key)
                } catch {
                    return .failure(VerificationFailure(.signature, "cannot read the key of \(url.did): \(error)"))
                }
            }
            if let key = trust?.key(issuer: controller, kid: kid) {
                keyCache.insert(key, for: cacheKey)
                return .success(key)
            }
            do {
                let document = try await resolver.resolve(url.did)
                return .success(try document.publicKey(for: kid, relationship: relationship))
            } catch {
                return .failure(VerificationFailure(.signature, "cannot resolve \(kid): \(error)"))
            }
        }
        if let key = trust?.key(issuer: controller, kid: kid) {
            keyCache.insert(key, for: cacheKey)
            return .success(key)
        }
        return .failure(VerificationFailure(.signature, "kid \(kid) is neither a DID URL nor a key the trust bundle lists for \(controller)"))
    }
}
