import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate the authority no longer stands behind.
public struct RevokedCertificate: Sendable, Hashable {
    public var serialNumber: Certificate.SerialNumber
    public var revocationDate: Date
    public var reason: RevocationReason

    public init(serialNumber: Certificate.SerialNumber, revocationDate: Date, reason: RevocationReason) {
        self.serialNumber = serialNumber
        self.revocationDate = revocationDate
        self.reason = reason
    }
}

extension CertificateAuthority {
    /// A signed X.509 v2 CRL (RFC 5280 §5) of the issuing intermediate: entries with reason codes,
    /// AKI and CRL number extensions, thisUpdate = `now`, nextUpdate = `now + validity`.
    public func certificateRevocationList(
        revoked: [RevokedCertificate],
        number: Int,
        now: Date = Date(),
        validity: TimeInterval = 86_400
    ) throws -> [UInt8] {
        try Self.revocationList(
            issuer: intermediate.subject, keyIdentifier: intermediateKeyIdentifier, key: intermediateKey,
            revoked: revoked, number: number, now: now, validity: validity)
    }

    /// The same CRL from entries already encoded (`encodedEntry(_:)`), in the order given: what a
    /// server that keeps its entries between CRLs signs, at the cost of one concatenation.
    public func certificateRevocationList(
        encodedEntries: [[UInt8]],
        number: Int,
        now: Date,
        validity: TimeInterval = 86_400
    ) throws -> [UInt8] {
        try Self.revocationList(
            issuer: intermediate.subject, keyIdentifier: intermediateKeyIdentifier, key: intermediateKey,
            encodedEntries: encodedEntries, number: number, now: now, validity: validity)
    }

    /// One `revokedCertificates` entry, DER: serial, revocation date, and the reason code unless unspecified.
    public static func encodedEntry(_ entry: RevokedCertificate) throws -> [UInt8] {
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(entry.serialNumber.bytes)
            try DERSupport.serializeTime(entry.revocationDate, into: &coder)
            if entry.reason != .unspecified {
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.serialize(Self.reasonCodeExtension(entry.reason))
                }
            }
        }
        return coder.serializedBytes
    }

    /// The root's own CRL (an authority revocation list): the CA certificates the root has revoked
    /// (none, while the intermediate stands), signed by the root key, so that a relying party that
    /// checks every certificate of the chain (`openssl verify -crl_check_all`) finds one for each.
    public func rootRevocationList(
        rootKey: P256.Signing.PrivateKey, revoked: [RevokedCertificate] = [], number: Int, now: Date = Date(),
        validity: TimeInterval = 7 * 86_400
    ) throws -> [UInt8] {
        try Self.rootRevocationList(root: root, rootKey: rootKey, revoked: revoked, number: number, now: now, validity: validity)
    }

    /// The root's own CRL for the root certificate `root`, with no more of the authority at hand
    /// (signed where the root key is kept offline).
    public static func rootRevocationList(
        root: Certificate, rootKey: P256.Signing.PrivateKey, revoked: [RevokedCertificate] = [], number: Int, now: Date, validity: TimeInterval
    ) throws -> [UInt8] {
        guard root.publicKey == Certificate.PublicKey(rootKey.publicKey) else {
            throw VouchCoreError.inconsistentAuthority("the root key does not match the root certificate")
        }
        return try Self.revocationList(
            issuer: root.subject, keyIdentifier: Self.keyIdentifier(rootKey.publicKey), key: rootKey,
            revoked: revoked, number: number, now: now, validity: validity)
    }

    /// A signed X.509 v2 CRL of `issuer` (whose key is `key`): what both of the authority's CRLs are,
    /// and what a test manufacturer publishes.
    public static func revocationList(
        issuer: DistinguishedName, keyIdentifier: [UInt8], key: P256.Signing.PrivateKey,
        revoked: [RevokedCertificate], number: Int, now: Date, validity: TimeInterval
    ) throws -> [UInt8] {
        try revocationList(
            issuer: issuer, keyIdentifier: keyIdentifier, key: key, encodedEntries: try revoked.map(encodedEntry), number: number, now: now,
            validity: validity)
    }

    static func revocationList(
        issuer: DistinguishedName, keyIdentifier: [UInt8], key: P256.Signing.PrivateKey,
        encodedEntries: [[UInt8]], number: Int, now: Date, validity: TimeInterval
    ) throws -> [UInt8] {
        var tbs = DER.Serializer()
        try tbs.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(1)  // v2
            try DERSupport.serializeECDSAWithSHA256(into: &coder)
            try coder.serialize(issuer)
            try DERSupport.serializeTime(now, into: &coder)
            try DERSupport.serializeTime(now.addingTimeInterval(validity), into: &coder)
            if !encodedEntries.isEmpty {
                coder.appendConstructedNode(identifier: .sequence) { coder in
                    for entry in encodedEntries {
                        coder.serializeRawBytes(entry)
                    }
                }
            }
            try coder.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.serialize(
                        Certificate.Extension(AuthorityKeyIdentifier(keyIdentifier: ArraySlice(keyIdentifier)), critical: false)
                    )
                    try coder.serialize(Self.crlNumberExtension(number))
                }
            }
        }
        return try DERSupport.signedStructure(tbs: tbs.serializedBytes, key: key)
    }

    static func reasonCodeExtension(_ reason: RevocationReason) throws -> Certificate.Extension {
        var coder = DER.Serializer()
        try reason.rawValue.serialize(into: &coder, withIdentifier: .enumerated)
        return Certificate.Extension(oid: [2, 5, 29, 21], critical: false, value: ArraySlice(coder.serializedBytes))
    }

    static func crlNumberExtension(_ number: Int) throws -> Certificate.Extension {
        var coder = DER.Serializer()
        try coder.serialize(number)
        return Certificate.Extension(oid: [2, 5, 29, 20], critical: false, value: ArraySlice(coder.serializedBytes))
    }
}
