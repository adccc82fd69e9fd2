import Foundation
import VouchKit

/// DIDs, DID documents, JWKs and trust bundles.
extension FuzzTargets {
    /// A DID or DID URL (a JWS `kid`, an `iss`, a holder). A DID is written as read; a did:key DID
    /// that decodes to a key must be that key's only DID.
    static func did(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        if let url = try? DIDURL(text) {
            guard url.description == text, (try? DIDURL(url.description)) == url else {
                fatalError("DID URL \(text.prefix(200)) is written as \(url.description.prefix(200))")
            }
            _ = try? url.did.didKeyPublicKey()
        }
        guard let did = try? DID(text) else { return }
        guard did.description == text else { fatalError("DID \(text.prefix(200)) is written as \(did.description.prefix(200))") }
        if let key = try? did.didKeyPublicKey() {
            guard DID(key: key) == did else {
                fatalError("\(text.prefix(200)) decodes to a key whose did:key is \(DID(key: key))")
            }
            _ = try? DIDDocument(didKey: did)
        }
        if did.method == "web", let url = try? DIDWeb.documentURL(for: did) {
            _ = try? DIDWeb.did(forDocumentURL: url)
        }
    }

    /// A DID document (JSON), as a did:web resolver reads one, each listed key taken. What it
    /// writes must read back as the same document.
    static func didDocument(_ data: Data) {
        guard let document = try? DIDDocument(json: data) else { return }
        for id in document.authentication { _ = try? document.publicKey(for: absolute(id, in: document), relationship: .authentication) }
        for id in document.assertionMethod { _ = try? document.publicKey(for: absolute(id, in: document), relationship: .assertionMethod) }
        for method in document.verificationMethod { _ = try? method.publicKey() }
        guard (try? DIDDocument(json: document.jsonData())) == document else {
            fatalError("a DID document is written as \(String(decoding: document.jsonData(pretty: false), as: UTF8.self).prefix(400)), which reads back differently")
        }
    }

    private static func absolute(_ reference: String, in document: DIDDocument) -> String {
        reference.hasPrefix("#") ? document.id + reference : reference
    }

    /// A JWK (JSON), read as a public key, a signing key and a thumbprint. A public key's own JWK
    /// must read back as the same key.
    static func jwk(_ data: Data) {
        guard let jwk = try? JWK(json: data) else { return }
        _ = try? jwk.thumbprint()
        _ = try? SigningKey(jwk: jwk)
        guard let key = try? PublicKey(jwk: jwk) else { return }
        guard (try? PublicKey(jwk: key.jwk)) == key else {
            fatalError("the JWK of a public key does not read back as the key: \(key.jwk)")
        }
        _ = DID(key: key)
    }

    /// The contents of a trust bundle (JSON), opened as a verifier opens one it trusts: issuer
    /// keys, CA certificates, the checkpoint under its log key, zone rules, status list credentials.
    static func trustBundle(_ data: Data) {
        guard let contents = try? JSONDecoder().decode(TrustBundle.Contents.self, from: data) else { return }
        _ = runBlocking {
            (try? await TrustBundle(trusting: contents, now: FuzzFixture.now))?.caCertificates.count
        }
    }
}
