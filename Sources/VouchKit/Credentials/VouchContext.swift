import Crypto
import Foundation
import Synchronization

/// The JSON-LD context of the terms Vouch's credentials use beyond the VC 2.0 context: the device
/// credential types, `deviceId`, `group`, `zone`, `keyThumbprint`, `previousDids`, `role`,
/// `capabilities`, `policyVersion`, and (through `@vocab`) the device attributes a group requires,
/// so that a JSON-LD processor expanding a credential drops nothing and every type is an absolute
/// IRI. Each authority serves it at ``url(authority:)``; credentials name it in `@context` and pin
/// its bytes in `relatedResource` (`digestSRI`, SHA-384), as VC 2.0 §5.3 describes.
public enum VouchContext {
    /// Where an authority whose public URL is `authority` serves the context.
    public static func url(authority: String) -> String { authority + "/v1/contexts/vouch-v1.jsonld" }

    /// The context document served at `url`, as the bytes that are served and hashed (RFC 8785).
    public static func document(url: String) -> [UInt8] {
        let vocabulary = url + "#"
        var terms: [String: JSONValue] = ["@version": .number(1.1), "@vocab": .string(vocabulary)]
        for type in ["DeviceIdentityCredential", "DeviceRoleCredential"] {
            terms[type] = .string(vocabulary + type)
        }
        for term in ["deviceId", "group", "zone", "keyThumbprint", "role", "policyVersion"] {
            terms[term] = .string(vocabulary + term)
        }
        terms["previousDids"] = .object(["@id": .string(vocabulary + "previousDids"), "@type": "@id", "@container": "@set"])
        terms["capabilities"] = .object(["@id": .string(vocabulary + "capabilities"), "@type": "@json"])
        return JSONValue.object(["@context": .object(terms)]).canonicalJSON
    }

    /// `sha384-<base64>` of the document: the Subresource Integrity digest `relatedResource` pins.
    public static func digestSRI(url: String) -> String {
        if let known = digests.withLock({ $0[url] }) { return known }
        let digest = "sha384-" + Data(SHA384.hash(data: document(url: url))).base64EncodedString()
        // An authority has one public URL; the bound only keeps a caller with many from growing it.
        digests.withLock { if $0.count < 16 { $0[url] = digest } }
        return digest
    }

    /// Digests already worked out, by URL: every credential issued pins one.
    private static let digests = Mutex<[String: String]>([:])
}
