import VouchKit

/// A JWS signed by the key its own `kid` names (a did:key verification method): how devices prove
/// possession of their key (enrollment) and answer nonces (authentication, rotation).
enum SelfSignedProof {
    /// Verifies `token` of type `mediaType` and decodes its payload. `name` and `shape` word the errors.
    static func verify<Payload: Decodable>(
        _ token: String, as: Payload.Type, mediaType: String, name: String, shape: String
    ) throws -> (PublicKey, DID, Payload) {
        let jws: CompactJWS
        do {
            jws = try CompactJWS(parsing: token)
        } catch {
            throw ServiceError.invalidRequest("the \(name) is not a compact JWS: \(error)")
        }
        guard jws.header.typ == mediaType else {
            throw ServiceError.invalidRequest("the \(name) must have typ \(mediaType)")
        }
        guard jws.header.crit == nil else { throw ServiceError.invalidRequest("the \(name) must not carry crit") }
        guard let kid = jws.header.kid, let url = try? DIDURL(kid), url.did.method == "key",
            let key = try? url.did.didKeyPublicKey()
        else {
            throw ServiceError.invalidRequest("the \(name)'s kid must be the signing key's did:key verification method")
        }
        guard JWS.verify(jws, key: key) else {
            throw ServiceError.unauthenticated("the \(name)'s signature does not verify with the key its kid names")
        }
        do {
            return (key, url.did, try jws.decodePayload(as: Payload.self))
        } catch {
            throw ServiceError.invalidRequest("the \(name)'s payload must be \(shape)")
        }
    }
}
