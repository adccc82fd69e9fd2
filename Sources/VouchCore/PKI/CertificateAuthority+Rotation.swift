import Crypto
import Foundation
import SwiftASN1
import X509

extension CertificateAuthority {
    /// The issuing intermediate's generation: 1 for the one the bootstrap made ("NAME Issuing CA"),
    /// N for the one the (N−1)th rotation made ("NAME Issuing CA N").
    public var generation: Int { Self.generation(of: intermediate) }

    public static func generation(of intermediate: Certificate) -> Int {
        guard let name = commonName(of: intermediate), let space = name.lastIndex(of: " "),
            let number = Int(name[name.index(after: space)...]), number >= 2, name[..<space].hasSuffix("Issuing CA")
        else { return 1 }
        return number
    }

    static func commonName(of certificate: Certificate) -> String? {
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                if let text = try? String(attribute.value) { return text }
                return attribute.value.description
            }
        }
        return nil
    }

    /// What a rotation makes: the next intermediate (same name and root CRL distribution point,
    /// generation + 1, five years) over a new key, and its OCSP responder.
    public struct Rotation: Sendable {
        public let intermediate: Certificate
        public let intermediateKey: P256.Signing.PrivateKey
        public let responder: Certificate
        public let responderKey: P256.Signing.PrivateKey
    }

    /// Issues the intermediate that follows `intermediate`, signed by the root key (which must be the
    /// root certificate's). Its CRL distribution point is `rootCRLURL`, or the one `intermediate` has.
    public static func nextIntermediate(
        after intermediate: Certificate, root: Certificate, rootKey: P256.Signing.PrivateKey, rootCRLURL: String? = nil, now: Date = Date()
    ) throws -> Rotation {
        let generation = Self.generation(of: intermediate)
        guard root.publicKey == Certificate.PublicKey(rootKey.publicKey) else {
            throw VouchCoreError.inconsistentAuthority("the root key does not match the root certificate")
        }
        var name = commonName(of: intermediate) ?? "Vouch Issuing CA"
        if generation >= 2, let space = name.lastIndex(of: " ") { name = String(name[..<space]) }
        if name.hasSuffix(" Issuing CA") { name = String(name.dropLast(" Issuing CA".count)) }
        let next = generation + 1
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("Vouch")
            CommonName("\(name) Issuing CA \(next)")
        }
        let rootCRL = rootCRLURL.map(crlDistributionPoints) ?? intermediate.extensions.first { $0.oid == [2, 5, 29, 31] }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: newSerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: min(now.addingTimeInterval(5 * 365.25 * 86_400), root.notValidAfter),
            issuer: root.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(keyIdentifier: ArraySlice(keyIdentifier(key.publicKey)))
                AuthorityKeyIdentifier(keyIdentifier: ArraySlice(keyIdentifier(rootKey.publicKey)))
                if let rootCRL {
                    rootCRL
                }
            },
            issuerPrivateKey: Certificate.PrivateKey(rootKey)
        )
        let responderKey = P256.Signing.PrivateKey()
        let responder = try issueResponder(name: name, key: responderKey.publicKey, intermediate: certificate, intermediateKey: key, now: now)
        return Rotation(intermediate: certificate, intermediateKey: key, responder: responder, responderKey: responderKey)
    }
}
