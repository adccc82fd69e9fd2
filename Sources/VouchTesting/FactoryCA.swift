import Crypto
import Foundation
import SwiftASN1
import VouchCore
import VouchKit
import X509

/// A manufacturer's certificate authority, for tests of manufacturer-CA enrollment: a self-signed
/// P-256 root that issues factory certificates to device keys.
public struct FactoryCA: Sendable {
    public let root: Certificate
    private let rootKey: P256.Signing.PrivateKey

    /// A new root, valid for a year from an hour ago.
    public init(name: String = "Test Factory") throws {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName(name)
            CommonName("\(name) Root")
        }
        root = try Certificate(
            version: .v3, serialNumber: CertificateAuthority.newSerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(365 * 86_400),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        rootKey = key
    }

    public var rootPEM: String {
        get throws { try root.serializeAsPEM().pemString }
    }

    /// The root's CRL (PEM), listing `revoked` (PEM certificates it issued), made at `now` and
    /// valid for `validity` seconds.
    public func revocationList(revoking revoked: [String], now: Date = Date(), validity: TimeInterval = 86_400) throws -> String {
        let entries = try revoked.map {
            RevokedCertificate(serialNumber: try Certificate(pemEncoded: $0).serialNumber, revocationDate: now, reason: .keyCompromise)
        }
        let der = try CertificateAuthority.revocationList(
            issuer: root.subject, keyIdentifier: Array(Insecure.SHA1.hash(data: rootKey.publicKey.x963Representation)), key: rootKey,
            revoked: entries, number: 1, now: now, validity: validity)
        return PEMDocument(type: "X509 CRL", derBytes: der).pemString
    }

    /// A factory certificate for `key`, as a device would carry from the production line.
    public func issue(to key: SigningKey, serial: String) throws -> String {
        let certificate = try Certificate(
            version: .v3, serialNumber: CertificateAuthority.newSerialNumber(), publicKey: key.publicKey.certificatePublicKey,
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(180 * 86_400),
            issuer: root.subject,
            subject: try DistinguishedName {
                OrganizationName(root.subject.description)
                CommonName(serial)
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(rootKey)
        )
        return try certificate.serializeAsPEM().pemString
    }
}
