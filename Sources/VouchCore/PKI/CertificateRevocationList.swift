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
        var tbs = DER.Serializer()
        try tbs.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(1)  // v2
            try DERSupport.serializeECDSAWithSHA256(into: &coder)
            try coder.serialize(intermediate.subject)
            try DERSupport.serializeTime(now, into: &coder)
            try DERSupport.serializeTime(now.addingTimeInterval(validity), into: &coder)
            if !revoked.isEmpty {
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    for entry in revoked {
                        try coder.appendConstructedNode(identifier: .sequence) { coder in
                            try coder.serialize(entry.serialNumber.bytes)
                            try DERSupport.serializeTime(entry.revocationDate, into: &coder)
                            if entry.reason != .unspecified {
                                try coder.appendConstructedNode(identifier: .sequence) { coder in
                                    try coder.serialize(Self.reasonCodeExtension(entry.reason))
                                }
                            }
                        }
                    }
                }
            }
            try coder.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.serialize(
                        Certificate.Extension(
                            AuthorityKeyIdentifier(keyIdentifier: ArraySlice(intermediateKeyIdentifier)), critical: false
                        )
                    )
                    try coder.serialize(Self.crlNumberExtension(number))
                }
            }
        }
        return try DERSupport.signedStructure(tbs: tbs.serializedBytes, key: intermediateKey)
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
