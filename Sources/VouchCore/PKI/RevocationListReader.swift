import Foundation
import SwiftASN1
import X509

/// A CRL from elsewhere (RFC 5280 §5), read to check certificates against: a manufacturer's CRL
/// that an operator supplies for an enrollment group. Only what a check needs is kept: the issuer,
/// the validity, the revoked serial numbers, and what the signature covers.
public struct RevocationListReader: Sendable {
    /// The issuer's name.
    public let issuer: DistinguishedName
    public let thisUpdate: Date
    public let nextUpdate: Date?
    /// The serial numbers listed, as their DER INTEGER bytes.
    public let revokedSerials: Set<[UInt8]>
    /// The CRL number extension's value, when it has one that fits an Int.
    public let number: Int?
    private let tbs: [UInt8]
    private let signatureAlgorithm: Certificate.SignatureAlgorithm
    private let signature: [UInt8]

    /// The signature algorithms read: ECDSA, RSA PKCS #1 v1.5 with SHA-2, Ed25519.
    static let algorithms: [ASN1ObjectIdentifier: Certificate.SignatureAlgorithm] = [
        [1, 2, 840, 10045, 4, 3, 2]: .ecdsaWithSHA256, [1, 2, 840, 10045, 4, 3, 3]: .ecdsaWithSHA384,
        [1, 2, 840, 10045, 4, 3, 4]: .ecdsaWithSHA512, [1, 2, 840, 113549, 1, 1, 11]: .sha256WithRSAEncryption,
        [1, 2, 840, 113549, 1, 1, 12]: .sha384WithRSAEncryption, [1, 2, 840, 113549, 1, 1, 13]: .sha512WithRSAEncryption,
        [1, 3, 101, 112]: .ed25519,
    ]

    /// Reads a CRL from PEM (`X509 CRL`) or DER.
    public init(pemOrDER text: String) throws {
        if text.contains("-----BEGIN") {
            let document: PEMDocument
            do {
                document = try PEMDocument(pemString: text)
            } catch {
                throw VouchCoreError.malformedRequest("not a PEM document: \(error)")
            }
            guard document.discriminator == "X509 CRL" else {
                throw VouchCoreError.malformedRequest("a PEM \(document.discriminator.prefix(32)), not an X509 CRL")
            }
            try self.init(derEncoded: document.derBytes)
        } else {
            guard let der = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw VouchCoreError.malformedRequest("a CRL is PEM (X509 CRL) or base64 DER")
            }
            try self.init(derEncoded: Array(der))
        }
    }

    /// Reads a DER CRL.
    public init(derEncoded bytes: [UInt8]) throws {
        do {
            let root = try DER.parse(bytes)
            var parts: [ASN1Node] = []
            try DER.sequence(root, identifier: .sequence) { nodes in
                while let node = nodes.next() { parts.append(node) }
            }
            guard parts.count == 3 else { throw VouchCoreError.malformedRequest("a CRL is a SEQUENCE of three") }
            tbs = Array(parts[0].encodedBytes)
            signatureAlgorithm = try Self.algorithm(parts[1])
            signature = Array(try ASN1BitString(derEncoded: parts[2]).bytes)
            var fields: [ASN1Node] = []
            try DER.sequence(parts[0], identifier: .sequence) { nodes in
                while let node = nodes.next() { fields.append(node) }
            }
            var index = 0
            if index < fields.count, fields[index].identifier == .integer { index += 1 }  // version
            guard fields.count >= index + 3 else { throw VouchCoreError.malformedRequest("the CRL's tbsCertList is too short") }
            guard try Self.algorithm(fields[index]) == signatureAlgorithm else {
                throw VouchCoreError.malformedRequest("the CRL names two different signature algorithms")
            }
            issuer = try DistinguishedName(derEncoded: fields[index + 1])
            thisUpdate = try Self.time(fields[index + 2])
            index += 3
            var next: Date?
            if index < fields.count, fields[index].identifier == .utcTime || fields[index].identifier == .generalizedTime {
                next = try Self.time(fields[index])
                index += 1
            }
            nextUpdate = next
            var serials: Set<[UInt8]> = []
            if index < fields.count, fields[index].identifier == .sequence {
                try DER.sequence(fields[index], identifier: .sequence) { entries in
                    while let entry = entries.next() {
                        try DER.sequence(entry, identifier: .sequence) { nodes in
                            guard let serial = nodes.next() else { throw VouchCoreError.malformedRequest("a CRL entry without a serial number") }
                            let value = try ArraySlice<UInt8>(derEncoded: serial)
                            serials.insert(Array(Certificate.SerialNumber(bytes: value).bytes))
                            while nodes.next() != nil {}
                        }
                    }
                }
                index += 1
            }
            revokedSerials = serials
            var crlNumber: Int?
            // crlExtensions [0] EXPLICIT Extensions: the CRL number (2.5.29.20) is an INTEGER.
            if index < fields.count, fields[index].identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
                try DER.explicitlyTagged(fields[index], tagNumber: 0, tagClass: .contextSpecific) { node in
                    try DER.sequence(node, identifier: .sequence) { extensions in
                        while let node = extensions.next() {
                            let found = try Certificate.Extension(derEncoded: node)
                            if found.oid == [2, 5, 29, 20] {
                                crlNumber = try? Int(derEncoded: try DER.parse(Array(found.value)))
                            }
                        }
                    }
                }
            }
            number = crlNumber
        } catch let error as VouchCoreError {
            throw error
        } catch {
            throw VouchCoreError.malformedRequest("not a DER X.509 CRL: \(error)")
        }
    }

    /// Whether `issuer` (a CA certificate) signed this CRL.
    public func isSigned(by issuer: Certificate) -> Bool {
        issuer.subject == self.issuer && issuer.publicKey.isValidSignature(signature, for: tbs, signatureAlgorithm: signatureAlgorithm)
    }

    /// Whether the CRL lists `certificate`'s serial number.
    public func lists(_ certificate: Certificate) -> Bool {
        revokedSerials.contains(Array(certificate.serialNumber.bytes))
    }

    private static func algorithm(_ node: ASN1Node) throws -> Certificate.SignatureAlgorithm {
        var oid: ASN1ObjectIdentifier?
        try DER.sequence(node, identifier: .sequence) { nodes in
            guard let first = nodes.next() else { return }
            oid = try ASN1ObjectIdentifier(derEncoded: first)
            while nodes.next() != nil {}
        }
        guard let oid, let algorithm = algorithms[oid] else {
            throw VouchCoreError.malformedRequest("the CRL's signature algorithm \(oid.map { "\($0)" } ?? "?") is not one read here (ECDSA, RSA with SHA-2, Ed25519)")
        }
        return algorithm
    }

    private static func time(_ node: ASN1Node) throws -> Date {
        switch node.identifier {
        case .utcTime:
            let time = try UTCTime(derEncoded: node)
            return DERSupport.date(try GeneralizedTime(
                year: time.year, month: time.month, day: time.day, hours: time.hours, minutes: time.minutes, seconds: time.seconds, fractionalSeconds: 0))
        case .generalizedTime: return DERSupport.date(try GeneralizedTime(derEncoded: node))
        default: throw VouchCoreError.malformedRequest("a CRL time is UTCTime or GeneralizedTime")
        }
    }
}
