import Crypto
import Foundation
import SwiftASN1
import X509

/// One certificate an OCSP client asks about (RFC 6960 §4.1.1 `CertID`).
public struct OCSPCertificateID: Sendable, Hashable {
    /// The hash algorithm of the two issuer hashes: SHA-1 or SHA-256 are understood.
    public var hashAlgorithm: ASN1ObjectIdentifier
    public var issuerNameHash: [UInt8]
    public var issuerKeyHash: [UInt8]
    public var serialNumber: Certificate.SerialNumber
    /// The request's own encoding, echoed in the response so that the client matches it byte for byte.
    var encoded: [UInt8]
}

/// What an OCSP request asks: the certificates and the nonce extension, if any.
public struct OCSPRequestSummary: Sendable {
    public var certificates: [OCSPCertificateID]
    /// The id-pkix-ocsp-nonce extension, echoed in the response (RFC 8954).
    public var nonce: Certificate.Extension?

    /// Parses a DER `OCSPRequest`. Signed requests are accepted; their signature is not needed.
    public init(derEncoded bytes: [UInt8]) throws {
        do {
            let root = try DER.parse(bytes)
            var certificates: [OCSPCertificateID] = []
            var nonce: Certificate.Extension?
            try DER.sequence(root, identifier: .sequence) { nodes in
                guard let tbs = nodes.next() else { throw VouchCoreError.malformedRequest("the OCSP request has no TBSRequest") }
                try DER.sequence(tbs, identifier: .sequence) { nodes in
                    _ = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) { _ in }
                    _ = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 1, tagClass: .contextSpecific) { _ in }
                    guard let list = nodes.next() else { throw VouchCoreError.malformedRequest("the OCSP request lists no certificates") }
                    try DER.sequence(list, identifier: .sequence) { requests in
                        while let request = requests.next() {
                            try DER.sequence(request, identifier: .sequence) { fields in
                                guard let certID = fields.next() else { throw VouchCoreError.malformedRequest("an OCSP Request has no CertID") }
                                certificates.append(try Self.certificateID(certID))
                                while fields.next() != nil {}
                            }
                        }
                    }
                    if let extensions = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 2, tagClass: .contextSpecific, { node in
                        try DER.sequence(of: Certificate.Extension.self, identifier: .sequence, rootNode: node)
                    }) {
                        nonce = extensions.first { $0.oid == OCSPRequestSummary.nonceOID }
                    }
                }
                while nodes.next() != nil {}
            }
            guard !certificates.isEmpty else { throw VouchCoreError.malformedRequest("the OCSP request lists no certificates") }
            guard certificates.count <= 64 else { throw VouchCoreError.malformedRequest("at most 64 certificates per OCSP request") }
            self.certificates = certificates
            self.nonce = nonce
        } catch let error as VouchCoreError {
            throw error
        } catch {
            throw VouchCoreError.malformedRequest("not a DER OCSPRequest (RFC 6960 §4.1.1): \(error)")
        }
    }

    static let nonceOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 2]

    private static func certificateID(_ node: ASN1Node) throws -> OCSPCertificateID {
        let encoded = Array(node.encodedBytes)
        return try DER.sequence(node, identifier: .sequence) { nodes in
            guard let algorithm = nodes.next() else { throw VouchCoreError.malformedRequest("a CertID has no hash algorithm") }
            let oid = try DER.sequence(algorithm, identifier: .sequence) { parts in
                let oid = try ASN1ObjectIdentifier(derEncoded: &parts)
                while parts.next() != nil {}
                return oid
            }
            let nameHash = try ASN1OctetString(derEncoded: &nodes)
            let keyHash = try ASN1OctetString(derEncoded: &nodes)
            let serial = try ArraySlice<UInt8>(derEncoded: &nodes)
            return OCSPCertificateID(
                hashAlgorithm: oid,
                issuerNameHash: Array(nameHash.bytes),
                issuerKeyHash: Array(keyHash.bytes),
                serialNumber: Certificate.SerialNumber(bytes: serial),
                encoded: encoded
            )
        }
    }
}

/// The answer for one certificate.
public enum OCSPCertificateStatus: Sendable, Hashable {
    case good
    case revoked(at: Date, reason: RevocationReason)
    /// Not issued by this authority, or never issued.
    case unknown
}

extension CertificateAuthority {
    /// Whether `id` names a certificate of the issuing intermediate (issuer name and key hashes match).
    public func issued(_ id: OCSPCertificateID) -> Bool {
        guard let hashes = issuerHashes[id.hashAlgorithm] else { return false }
        return hashes.name == id.issuerNameHash && hashes.key == id.issuerKeyHash
    }

    /// A signed, successful `OCSPResponse` (RFC 6960 §4.2) for `request`, one status per requested
    /// certificate, signed by the delegated responder, its certificate included and the nonce echoed.
    public func ocspResponse(
        for request: OCSPRequestSummary,
        statuses: [OCSPCertificateStatus],
        now: Date = Date(),
        validity: TimeInterval = 600
    ) throws -> [UInt8] {
        precondition(statuses.count == request.certificates.count, "one status per requested certificate")
        var data = DER.Serializer()
        try data.appendConstructedNode(identifier: .sequence) { coder in
            // responderID byKey [2] EXPLICIT KeyHash
            let keyHash = ASN1OctetString(contentBytes: ArraySlice(Insecure.SHA1.hash(data: DERSupport.publicKeyBits(responderKey.publicKey))))
            try coder.serialize(keyHash, explicitlyTaggedWithTagNumber: 2, tagClass: .contextSpecific)
            try coder.serialize(DERSupport.generalizedTime(now))
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                for (id, status) in zip(request.certificates, statuses) {
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        coder.serializeRawBytes(id.encoded)
                        switch status {
                        case .good:
                            ASN1Null().serialize(into: &coder, withIdentifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific))
                        case .revoked(let at, let reason):
                            try coder.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)) { coder in
                                try coder.serialize(DERSupport.generalizedTime(at))
                                try coder.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { coder in
                                    try reason.rawValue.serialize(into: &coder, withIdentifier: .enumerated)
                                }
                            }
                        case .unknown:
                            ASN1Null().serialize(into: &coder, withIdentifier: ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific))
                        }
                        try coder.serialize(DERSupport.generalizedTime(now))
                        try coder.serialize(DERSupport.generalizedTime(now.addingTimeInterval(validity)), explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific)
                    }
                }
            }
            if let nonce = request.nonce {
                try coder.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)) { coder in
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        try coder.serialize(nonce)
                    }
                }
            }
        }
        let responder = self.responder
        let basic = try DERSupport.signedStructure(tbs: data.serializedBytes, key: responderKey) { coder in
            try coder.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.serialize(responder)
                }
            }
        }
        var response = DER.Serializer()
        try response.appendConstructedNode(identifier: .sequence) { coder in
            try 0.serialize(into: &coder, withIdentifier: .enumerated)  // successful
            try coder.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.serialize(ASN1ObjectIdentifier(arrayLiteral: 1, 3, 6, 1, 5, 5, 7, 48, 1, 1))  // id-pkix-ocsp-basic
                    try coder.serialize(ASN1OctetString(contentBytes: ArraySlice(basic)))
                }
            }
        }
        return response.serializedBytes
    }

    /// An unsigned `OCSPResponse` carrying only an error status: 1 malformedRequest, 2 internalError,
    /// 3 tryLater, 6 unauthorized.
    public static func ocspErrorResponse(status: Int) -> [UInt8] {
        var coder = DER.Serializer()
        try? coder.appendConstructedNode(identifier: .sequence) { coder in
            try status.serialize(into: &coder, withIdentifier: .enumerated)
        }
        return coder.serializedBytes
    }
}

/// An issuer's name and key hashes under one algorithm (RFC 6960 §4.1.1), computed once per authority.
struct IssuerHashes: Sendable, Hashable {
    var name: [UInt8]
    var key: [UInt8]

    /// SHA-1 and SHA-256 hashes of the DER name and of the public key bits.
    static func of(name: DistinguishedName, key: P256.Signing.PublicKey) throws -> [ASN1ObjectIdentifier: IssuerHashes] {
        var coder = DER.Serializer()
        try coder.serialize(name)
        let nameBytes = coder.serializedBytes
        let keyBits = DERSupport.publicKeyBits(key)
        return [
            DERSupport.sha1: IssuerHashes(name: Array(Insecure.SHA1.hash(data: nameBytes)), key: Array(Insecure.SHA1.hash(data: keyBits))),
            DERSupport.sha256: IssuerHashes(name: Array(SHA256.hash(data: nameBytes)), key: Array(SHA256.hash(data: keyBits))),
        ]
    }
}
