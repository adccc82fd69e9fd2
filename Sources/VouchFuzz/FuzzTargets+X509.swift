import Foundation
import SwiftASN1
import VouchCore
import VouchKit
import X509

/// Certificates, certificate requests and OCSP: DER and PEM from devices, factories and responders.
extension FuzzTargets {
    /// A DER certificate: a client certificate on the mTLS listener, or a factory certificate.
    static func certificate(_ data: Data) {
        guard let certificate = try? Certificate(derEncoded: Array(data)) else { return }
        read(certificate)
    }

    /// A PEM certificate: factory evidence, manufacturer roots, a trust bundle's CA certificates.
    static func certificatePEM(_ data: Data) {
        guard let certificate = try? Certificate(pemEncoded: String(decoding: data, as: UTF8.self)) else { return }
        read(certificate)
    }

    /// What the server reads of a certificate (its serial number and key), every extension a
    /// verifier decodes, and the RFC 5280 validation of factory evidence under a manufacturer root
    /// (at the current time, as the server validates it: the seeds' factory certificate is valid
    /// until 2030).
    private static func read(_ certificate: Certificate) {
        _ = Hex.encode(certificate.serialNumber.bytes)
        _ = (try? PublicKey(certificateKey: certificate.publicKey))?.thumbprint
        let extensions = certificate.extensions
        _ = try? extensions.basicConstraints
        _ = try? extensions.keyUsage
        _ = try? extensions.extendedKeyUsage
        _ = try? extensions.subjectAlternativeNames
        _ = try? extensions.subjectKeyIdentifier
        _ = try? extensions.authorityKeyIdentifier
        _ = try? extensions.authorityInformationAccess
        _ = try? extensions.nameConstraints
        _ = certificate.description
        var serializer = DER.Serializer()
        try? serializer.serialize(certificate)
        _ = runBlocking {
            var verifier = Verifier(rootCertificates: CertificateStore([FuzzFixture.manufacturerRoot])) {
                RFC5280Policy()
            }
            let result = await verifier.validate(leaf: certificate, intermediates: CertificateStore())
            if case .validCertificate = result { return true }
            return false
        }
    }

    /// A PEM PKCS#10 request, read as the server's enrollment reads it (`checkCSR`): at most
    /// 16 KiB, its signature checked with its own key, then the key taken.
    static func certificateSigningRequest(_ data: Data) {
        let pem = String(decoding: data, as: UTF8.self)
        guard pem.utf8.count <= 16_384, let csr = try? CertificateSigningRequest(pemEncoded: pem) else { return }
        read(csr)
    }

    /// A DER PKCS#10 request.
    static func certificateSigningRequestDER(_ data: Data) {
        guard let csr = try? CertificateSigningRequest(derEncoded: Array(data)) else { return }
        read(csr)
    }

    private static func read(_ csr: CertificateSigningRequest) {
        _ = try? csr.attributes.extensionRequest
        _ = csr.description
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else { return }
        _ = (try? PublicKey(certificateKey: csr.publicKey))?.algorithm
    }

    /// A CRL an operator gives for a manufacturer (an enrollment group's `manufacturerCRLs`): the
    /// bytes as DER, and as the PEM or base64 text the group holds; then checked as enrollment
    /// checks a factory chain against it (signed by the issuer? expired? listing the certificate?).
    static func revocationList(_ data: Data) {
        let lists = [try? RevocationListReader(derEncoded: Array(data)), try? RevocationListReader(pemOrDER: String(decoding: data, as: UTF8.self))]
        for case let list? in lists {
            if list.isSigned(by: FuzzFixture.manufacturerRoot), let next = list.nextUpdate {
                _ = RFC3339.format(next)
            }
            _ = list.lists(FuzzFixture.manufacturerRoot)
        }
    }

    /// A DER OCSP request to the responder, answered as the server answers it: each certificate
    /// known or unknown, the CertIDs and the nonce echoed into a signed response, which is read back.
    static func ocspRequest(_ data: Data) {
        guard let request = try? OCSPRequestSummary(derEncoded: Array(data)) else { return }
        let authority = FuzzFixture.authority
        let statuses = request.certificates.map { authority.issued($0) ? OCSPCertificateStatus.good : .unknown }
        guard let response = try? authority.ocspResponse(for: request, statuses: statuses, now: FuzzFixture.now) else { return }
        _ = try? OCSPClient.unverifiedStatuses(in: response)
    }

    /// A DER OCSP response, as `vouch` reads a responder's answer.
    static func ocspResponse(_ data: Data) {
        _ = try? OCSPClient.unverifiedStatuses(in: Array(data))
    }
}
