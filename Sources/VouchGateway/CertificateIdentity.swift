import SwiftASN1
import VouchKit
import X509

/// Who a client certificate names, as a broker gate needs it: the subject's common name (a Vouch
/// device certificate's is the device id) and the serial (lower-case hex, as Vouch stores it).
struct CertificateIdentity: Sendable, Equatable {
    var commonName: String
    var serial: String
    /// The certified key (nil when it is of a type Vouch does not issue for).
    var key: PublicKey?

    init(der: [UInt8]) throws {
        let certificate = try Certificate(derEncoded: der)
        var name: String?
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                name = String(attribute.value)
            }
        }
        guard let name, !name.isEmpty else { throw CertificateError.unsupportedName }
        commonName = name
        serial = Hex.encode(certificate.serialNumber.bytes)
        key = try? PublicKey(certificateKey: certificate.publicKey)
    }

    enum CertificateError: Error { case unsupportedName }
}
