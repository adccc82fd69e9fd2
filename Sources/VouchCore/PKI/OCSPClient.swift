import Crypto
import Foundation
import SwiftASN1
import X509

/// The client side of RFC 6960: a request for one certificate, and the statuses a response gives.
public enum OCSPClient {
    /// A DER `OCSPRequest` for the certificate `serial` issued by `issuer` (a P-256 issuing CA), with a SHA-1 CertID (what
    /// openssl and browsers send) and, when given, an RFC 8954 nonce.
    public static func request(serial: Certificate.SerialNumber, issuer: Certificate, nonce: [UInt8]? = nil) throws -> [UInt8] {
        guard let issuerKey = P256.Signing.PublicKey(issuer.publicKey),
            let hashes = try IssuerHashes.of(name: issuer.subject, key: issuerKey)[DERSupport.sha1]
        else {
            throw VouchCoreError.malformedRequest("the issuer's key is not P-256, which Vouch authorities use")
        }
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { coder in  // OCSPRequest
            try coder.appendConstructedNode(identifier: .sequence) { coder in  // TBSRequest
                try coder.appendConstructedNode(identifier: .sequence) { coder in  // requestList
                    try coder.appendConstructedNode(identifier: .sequence) { coder in  // Request
                        try coder.appendConstructedNode(identifier: .sequence) { coder in  // CertID
                            try coder.appendConstructedNode(identifier: .sequence) { coder in
                                try coder.serialize(DERSupport.sha1)
                                try coder.serialize(ASN1Null())
                            }
                            try coder.serialize(ASN1OctetString(contentBytes: ArraySlice(hashes.name)))
                            try coder.serialize(ASN1OctetString(contentBytes: ArraySlice(hashes.key)))
                            try coder.serialize(ArraySlice(serial.bytes))
                        }
                    }
                }
                if let nonce {
                    try coder.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific)) { coder in
                        try coder.appendConstructedNode(identifier: .sequence) { coder in
                            var value = DER.Serializer()
                            try value.serialize(ASN1OctetString(contentBytes: ArraySlice(nonce)))
                            try coder.serialize(
                                Certificate.Extension(oid: OCSPRequestSummary.nonceOID, critical: false, value: ArraySlice(value.serializedBytes)))
                        }
                    }
                }
            }
        }
        return coder.serializedBytes
    }

    /// The serial number and status of each `SingleResponse` in a successful response, in order.
    ///
    /// This reads the response; it does **not** check the responder's signature. It is for
    /// monitoring and measurement against a responder already trusted (such as one's own); a relying
    /// party deciding on a certificate must verify the signature (as `openssl ocsp` does).
    public static func unverifiedStatuses(in response: [UInt8]) throws -> [(serial: Certificate.SerialNumber, status: OCSPCertificateStatus)] {
        do {
            let root = try DER.parse(response)
            return try DER.sequence(root, identifier: .sequence) { nodes in
                let status = try Int(derEncoded: &nodes, withIdentifier: .enumerated)
                guard status == 0 else { throw VouchCoreError.rejected("the OCSP response status is \(status), not successful") }
                guard let wrapped = nodes.next() else { throw VouchCoreError.malformedRequest("a successful OCSP response has no responseBytes") }
                let basicBytes = try DER.explicitlyTagged(wrapped, tagNumber: 0, tagClass: .contextSpecific) { node in
                    try DER.sequence(node, identifier: .sequence) { parts in
                        _ = try ASN1ObjectIdentifier(derEncoded: &parts)
                        return try ASN1OctetString(derEncoded: &parts).bytes
                    }
                }
                let basic = try DER.parse(basicBytes)
                return try DER.sequence(basic, identifier: .sequence) { parts in
                    guard let data = parts.next() else { throw VouchCoreError.malformedRequest("no tbsResponseData") }
                    while parts.next() != nil {}
                    return try DER.sequence(data, identifier: .sequence) { fields in
                        _ = try DER.optionalExplicitlyTagged(&fields, tagNumber: 0, tagClass: .contextSpecific) { _ in }
                        _ = fields.next()  // responderID
                        _ = fields.next()  // producedAt
                        guard let responses = fields.next() else { throw VouchCoreError.malformedRequest("no responses") }
                        while fields.next() != nil {}
                        var result: [(Certificate.SerialNumber, OCSPCertificateStatus)] = []
                        try DER.sequence(responses, identifier: .sequence) { singles in
                            while let single = singles.next() {
                                result.append(try Self.singleResponse(single))
                            }
                        }
                        return result.map { (serial: $0.0, status: $0.1) }
                    }
                }
            }
        } catch let error as VouchCoreError {
            throw error
        } catch {
            throw VouchCoreError.malformedRequest("not a DER OCSPResponse (RFC 6960 §4.2.1): \(error)")
        }
    }

    private static func singleResponse(_ node: ASN1Node) throws -> (Certificate.SerialNumber, OCSPCertificateStatus) {
        try DER.sequence(node, identifier: .sequence) { fields in
            guard let certID = fields.next(), let status = fields.next() else { throw VouchCoreError.malformedRequest("a SingleResponse is incomplete") }
            while fields.next() != nil {}
            let serial = try DER.sequence(certID, identifier: .sequence) { parts in
                _ = parts.next()
                _ = parts.next()
                _ = parts.next()
                let serial = try ArraySlice<UInt8>(derEncoded: &parts)
                return Certificate.SerialNumber(bytes: serial)
            }
            switch (status.identifier.tagClass, status.identifier.tagNumber) {
            case (.contextSpecific, 0): return (serial, .good)
            case (.contextSpecific, 1):
                let (at, reason) = try DER.sequence(status, identifier: status.identifier) { parts in
                    let time = try GeneralizedTime(derEncoded: &parts)
                    let reason = try DER.optionalExplicitlyTagged(&parts, tagNumber: 0, tagClass: .contextSpecific) { node in
                        try Int(derEncoded: node, withIdentifier: .enumerated)
                    }
                    return (DERSupport.date(time), reason.flatMap(RevocationReason.init(rawValue:)) ?? .unspecified)
                }
                return (serial, .revoked(at: at, reason: reason))
            default: return (serial, .unknown)
            }
        }
    }
}
