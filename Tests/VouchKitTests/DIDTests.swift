import Foundation
import Testing
@testable import VouchKit

@Suite("did:key vectors")
struct DIDKeyVectorTests {
    @Test("every Ed25519 vector: the seed gives the DID, and our document and theirs give the same key")
    func ed25519Vectors() async throws {
        let vectors = try Vectors.json("did-key/ed25519-x25519.json") as! [String: [String: Any]]
        #expect(vectors.count == 5)
        for (did, vector) in vectors {
            let seed = try #require(Data(hexString: vector["seed"] as! String))
            let key = try SigningKey(ed25519Seed: seed)
            #expect(DID(key: key.publicKey).description == did)
            let parsed = try DID(did)
            #expect(try parsed.didKeyPublicKey() == key.publicKey)
            let theirs = try DIDDocument(json: try JSONSerialization.data(withJSONObject: vector["didDocument"]!))
            let ours = try await DIDKeyResolver().resolve(parsed)
            let methodID = "\(did)#\(parsed.methodSpecificID)"
            #expect(ours.id == theirs.id)
            #expect(ours.verificationMethod.first?.id == methodID)
            #expect(try theirs.publicKey(for: methodID, relationship: .assertionMethod) == key.publicKey)
            #expect(try ours.publicKey(for: methodID, relationship: .assertionMethod) == key.publicKey)
            #expect(try ours.publicKey(for: methodID, relationship: .authentication) == key.publicKey)
            #expect(Set(theirs.authentication) == Set(ours.authentication))
            #expect(Set(theirs.assertionMethod) == Set(ours.assertionMethod))
            let pair = try JSONSerialization.data(withJSONObject: vector["verificationKeyPair"]!)
            #expect(try JSONDecoder().decode(VerificationMethod.self, from: pair).publicKey() == key.publicKey)
        }
    }

    @Test("every NIST-curve vector: the JWK gives the DID, and the DID gives the JWK")
    func nistVectors() async throws {
        let vectors = try Vectors.json("did-key/nist-curves.json") as! [String: [String: Any]]
        var p256 = 0
        for (did, vector) in vectors {
            let methodJSON = try JSONSerialization.data(withJSONObject: vector["verificationMethod"]!)
            let method = try JSONDecoder().decode(VerificationMethod.self, from: methodJSON)
            let key = try method.publicKey()
            #expect(DID(key: key).description == did)
            let parsed = try DID(did)
            #expect(try parsed.didKeyPublicKey() == key)
            let theirs = try DIDDocument(json: try JSONSerialization.data(withJSONObject: vector["didDocument"]!))
            let ours = try await DIDKeyResolver().resolve(parsed)
            let methodID = "\(did)#\(parsed.methodSpecificID)"
            #expect(try theirs.publicKey(for: methodID, relationship: .authentication) == key)
            #expect(try ours.publicKey(for: methodID, relationship: .authentication) == key)
            if key.algorithm == .es256 {
                p256 += 1
                #expect(did.hasPrefix("did:key:zDn"))
                if let privateJWK = (vector["verificationMethod"] as? [String: Any])?["privateKeyJwk"] {
                    #expect(try SigningKey(jwk: try JWK(json: try JSONSerialization.data(withJSONObject: privateJWK))).publicKey == key)
                }
            }
        }
        #expect(p256 == 3)
    }

    @Test("generated keys make did:keys that resolve back to them", arguments: SigningKey.KeyType.allCases)
    func roundTrip(type: SigningKey.KeyType) async throws {
        for _ in 0..<20 {
            let key = SigningKey.generate(type).publicKey
            let did = DID(key: key)
            #expect(try DID(did.description) == did)
            let document = try await DIDKeyResolver().resolve(did)
            #expect(try document.publicKey(for: did.didKeyVerificationMethod.description, relationship: .assertionMethod) == key)
            let reparsed = try DIDDocument(json: document.jsonData())
            #expect(reparsed == document)
        }
    }

    @Test("malformed DIDs and did:keys are rejected")
    func malformed() {
        for text in ["", "did:", "did:key", "did:KEY:z6Mk", "did:key:", "did:key:abc#frag", "doc:key:z6Mk", "did:key:a b", "did:web:x:"] {
            #expect(throws: VouchKitError.self, "\(text)") { try DID(text) }
        }
        for text in ["did:key:abc", "did:key:z111", "did:key:zQ3s", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW"] {
            #expect(throws: VouchKitError.self, "\(text)") { try DID(text).didKeyPublicKey() }
        }
    }
}

@Suite("did:web")
struct DIDWebTests {
    @Test("DID ⇄ URL mapping")
    func mapping() throws {
        let cases = [
            ("did:web:example.com", "https://example.com/.well-known/did.json"),
            ("did:web:example.com%3A8443:devices:x", "https://example.com:8443/devices/x/did.json"),
            ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ]
        for (did, url) in cases {
            #expect(try DIDWeb.documentURL(for: DID(did)).absoluteString == url)
            #expect(try DIDWeb.did(forDocumentURL: URL(string: url)!).description == did)
        }
        #expect(throws: VouchKitError.self) { try DIDWeb.documentURL(for: DID("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")) }
        #expect(throws: VouchKitError.self) { try DIDWeb.documentURL(for: DID("did:web:example.com:..:etc")) }
        #expect(throws: VouchKitError.self) { try DIDWeb.did(forDocumentURL: URL(string: "http://example.com/did.json")!) }
        #expect(throws: VouchKitError.self) { try DIDWeb.did(forDocumentURL: URL(string: "https://example.com/x/doc.json")!) }
    }

    @Test("a did:web document is built, resolved through the caller's fetch, and must be about the DID asked for")
    func resolution() async throws {
        let did = try DID("did:web:vouch.example%3A8443:devices:gw-1")
        let key = SigningKey.generate(.p256).publicKey
        let document = try DIDDocument(didWeb: did, keys: [key])
        let served = document.jsonData()
        let resolver = DIDWebResolver { url in
            #expect(url.absoluteString == "https://vouch.example:8443/devices/gw-1/did.json")
            return served
        }
        let resolved = try await resolver.resolve(did)
        #expect(try resolved.publicKey(for: "\(did)#\(key.thumbprint)", relationship: .assertionMethod) == key)
        let impostor = DIDWebResolver { _ in served }
        await #expect(throws: VouchKitError.self) { try await impostor.resolve(try DID("did:web:evil.example")) }
        await #expect(throws: VouchKitError.self) { try await MultiMethodResolver().resolve(did) }
    }

    @Test("DID URLs parse into DID, path, query and fragment")
    func didURLs() throws {
        let url = try DIDURL("did:web:example.com:a/path/x?service=files#key-1")
        #expect(url.did.description == "did:web:example.com:a")
        #expect(url.path == "/path/x")
        #expect(url.query == "service=files")
        #expect(url.fragment == "key-1")
        #expect(url.description == "did:web:example.com:a/path/x?service=files#key-1")
    }
}

extension Data {
    init?(hexString: String) {
        var bytes = [UInt8]()
        var index = hexString.startIndex
        while index < hexString.endIndex {
            let next = hexString.index(index, offsetBy: 2, limitedBy: hexString.endIndex) ?? hexString.endIndex
            guard let byte = UInt8(hexString[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
