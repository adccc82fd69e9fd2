import Crypto
import Foundation
import SwiftASN1
import X509

/// The DER pieces the certificate authority writes by hand: times, the ECDSA-with-SHA-256
/// algorithm identifier, and signatures over to-be-signed bytes.
enum DERSupport {
    static let ecdsaWithSHA256 = ASN1ObjectIdentifier(arrayLiteral: 1, 2, 840, 10045, 4, 3, 2)
    static let sha1 = ASN1ObjectIdentifier(arrayLiteral: 1, 3, 14, 3, 2, 26)
    static let sha256 = ASN1ObjectIdentifier(arrayLiteral: 2, 16, 840, 1, 101, 3, 4, 2, 1)

    /// `AlgorithmIdentifier { ecdsa-with-SHA256 }` (RFC 5758 §3.2: parameters absent).
    static func serializeECDSAWithSHA256(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(ecdsaWithSHA256)
        }
    }

    /// RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    static func serializeTime(_ date: Date, into coder: inout DER.Serializer) throws {
        let c = components(date)
        if c.year < 2050 {
            try coder.serialize(
                UTCTime(year: c.year, month: c.month, day: c.day, hours: c.hour, minutes: c.minute, seconds: c.second)
            )
        } else {
            try coder.serialize(generalizedTime(date))
        }
    }

    static func generalizedTime(_ date: Date) throws -> GeneralizedTime {
        let c = components(date)
        return try GeneralizedTime(
            year: c.year, month: c.month, day: c.day, hours: c.hour, minutes: c.minute, seconds: c.second,
            fractionalSeconds: 0
        )
    }

    static func date(_ time: GeneralizedTime) -> Date {
        var c = DateComponents()
        c.year = time.year
        c.month = time.month
        c.day = time.day
        c.hour = time.hours
        c.minute = time.minutes
        c.second = time.seconds
        return utcCalendar.date(from: c) ?? Date(timeIntervalSince1970: 0)
    }

    private static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    private static func components(_ date: Date) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let c = utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return (c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    /// `tbs` signed with `key`, as the BIT STRING of an X.509 structure.
    static func sign(_ tbs: [UInt8], with key: P256.Signing.PrivateKey) throws -> ASN1BitString {
        let signature = try key.signature(for: tbs)
        return ASN1BitString(bytes: ArraySlice(signature.derRepresentation))
    }

    /// `SEQUENCE { tbs, ecdsa-with-SHA256, signature }`: the shape of certificates, CRLs and OCSP responses.
    static func signedStructure(tbs: [UInt8], key: P256.Signing.PrivateKey, trailer: ((inout DER.Serializer) throws -> Void)? = nil) throws -> [UInt8] {
        let signature = try sign(tbs, with: key)
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            coder.serializeRawBytes(tbs)
            try serializeECDSAWithSHA256(into: &coder)
            try coder.serialize(signature)
            try trailer?(&coder)
        }
        return coder.serializedBytes
    }

    /// The contents of the subjectPublicKey BIT STRING of a P-256 key: what key identifiers hash.
    static func publicKeyBits(_ key: P256.Signing.PublicKey) -> [UInt8] {
        Array(key.x963Representation)
    }
}

/// RFC 5280 §5.3.1 revocation reasons that Vouch uses.
public enum RevocationReason: Int, Sendable, Hashable, Codable, CaseIterable {
    case unspecified = 0
    case keyCompromise = 1
    case affiliationChanged = 3
    case superseded = 4
    case cessationOfOperation = 5
    case certificateHold = 6

    /// The name an operator types: `key-compromise`, `superseded`, ….
    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .keyCompromise: "key-compromise"
        case .affiliationChanged: "affiliation-changed"
        case .superseded: "superseded"
        case .cessationOfOperation: "cessation-of-operation"
        case .certificateHold: "certificate-hold"
        }
    }

    public init?(name: String) {
        guard let reason = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = reason
    }
}
