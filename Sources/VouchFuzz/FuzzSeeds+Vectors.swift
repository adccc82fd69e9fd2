#if !FUZZING
import Crypto
import Foundation
import SwiftASN1
import VouchCore
import VouchKit
import X509

extension FuzzSeeds {
    /// Seeds from the official vectors in `Tests/VouchKitTests/Vectors`.
    static func vectors() throws -> [Seed] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tests/VouchKitTests/Vectors")
        func read(_ path: String) throws -> Data { try Data(contentsOf: root.appendingPathComponent(path)) }
        func object(_ path: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: try read(path)) as? [String: Any] ?? [:]
        }
        func json(_ value: Any) throws -> Data { try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]) }
        var seeds: [Seed] = []
        for name in [
            "credential-jose-minimal", "credential-jose-unknown-extensions", "credential-jose-vc-vp-claims", "credential-jose-bad-media-type",
            "presentation-jose-bad-credential", "credential-sdjwt-selective",
        ] {
            seeds.append(Seed("jws", "vc-jose-cose-\(name).txt", try read("vc-jose-cose/\(name).txt")))
        }
        for name in ["credential-minimal", "credential-full", "credential-unknown-extensions", "credential-nested-selective"] {
            seeds.append(Seed("credential", "vc-jose-cose-\(name).json", try read("vc-jose-cose/\(name).json")))
            seeds.append(Seed("json-scanner", "vc-jose-cose-\(name).json", try read("vc-jose-cose/\(name).json")))
        }
        for name in ["presentation-single", "presentation-selective"] {
            seeds.append(Seed("presentation", "vc-jose-cose-\(name).json", try read("vc-jose-cose/\(name).json")))
        }
        for name in ["vm-ed25519", "vm-p256", "vm-p384", "vm-p521"] {
            let method = try object("vc-jose-cose/\(name).json")
            if let jwk = method["publicKeyJwk"] { seeds.append(Seed("jwk", "vc-jose-cose-\(name).json", try json(jwk))) }
        }
        let jose = try object("rfc/jose-examples.json")
        if let rfc8037 = jose["rfc8037"] as? [String: Any] {
            if let jwk = rfc8037["privateJWK"] { seeds.append(Seed("jwk", "rfc8037-private.json", try json(jwk))) }
            if let token = rfc8037["jws"] as? String { seeds.append(Seed("jws", "rfc8037.txt", text: token)) }
        }
        if let jwk = (jose["rfc7638"] as? [String: Any])?["jwk"] { seeds.append(Seed("jwk", "rfc7638-rsa.json", try json(jwk))) }

        let ed25519 = try object("did-key/ed25519-x25519.json")
        for (index, (id, value)) in ed25519.sorted(by: { $0.key < $1.key }).prefix(2).enumerated() {
            seeds.append(Seed("did", "did-key-ed25519-\(index).txt", text: id))
            if let document = (value as? [String: Any])?["didDocument"] {
                seeds.append(Seed("did-document", "did-key-ed25519-\(index).json", try json(document)))
            }
        }
        let nist = try object("did-key/nist-curves.json")
        for (index, (id, value)) in nist.sorted(by: { $0.key < $1.key }).enumerated() {
            seeds.append(Seed("did", "did-key-nist-\(index).txt", text: id))
            let entry = value as? [String: Any]
            if let jwk = (entry?["verificationMethod"] as? [String: Any])?["publicKeyJwk"] {
                seeds.append(Seed("jwk", "did-key-nist-\(index).json", try json(jwk)))
            }
            if index == 0, let document = entry?["didDocument"] {
                seeds.append(Seed("did-document", "did-key-nist-\(index).json", try json(document)))
            }
        }

        let statusList = try object("bitstring-status-list/spec-example.json")
        if let encoded = statusList["encodedList"] as? String, let gzip = Base64URL.decode(encoded.dropFirst()) {
            seeds.append(Seed("bitstring-status-list", "spec-example.gz", gzip))
        }

        for path in [
            "merkle/inclusion/1/happy-path.json", "merkle/inclusion/1/wrong-leaf.json", "merkle/inclusion/1/treeSize-mul-@2.json",
            "merkle/inclusion/additional/0/empty-root.json", "merkle/consistency/1/happy-path.json", "merkle/consistency/1/truncated-proof.json",
            "merkle/consistency/1/size2-div-@2.json", "merkle/consistency/0/happy-path.json",
        ] {
            seeds.append(Seed("merkle-proof", path.dropFirst("merkle/".count).replacingOccurrences(of: "/", with: "-"), try read(path)))
        }
        return seeds
    }
}
#endif
