import Foundation
import Logging
import SwiftASN1
import VouchCore
import VouchKit
import VouchStore
@_spi(FixedExpiryValidationTime) import X509

/// Why a client certificate is refused: the problem an HTTP request gets, and the TLS alert
/// (RFC 8446 §6.2) the mTLS handshake ends with, as `openssl s_server` chooses them.
struct ClientCertificateRefusal: Error, Sendable {
    enum Reason: Sendable {
        case unreadable, notADeviceCertificate, notIssuedHere, revoked, expired, notYetValid, deviceCannotAct, keyReplaced
        /// The records could not be read (the database is down): nothing is said of the certificate.
        case unavailable
    }

    let reason: Reason
    let detail: String
    /// 403 rather than 401: the certificate is good, its device may not act.
    let forbidden: Bool

    init(_ reason: Reason, _ detail: String, forbidden: Bool = false) {
        self.reason = reason
        self.detail = detail
        self.forbidden = forbidden
    }

    var problem: ServiceError { forbidden ? .forbidden(detail) : .unauthenticated(detail) }

    /// The alert's code.
    var alert: UInt8 {
        switch reason {
        case .unreadable, .notADeviceCertificate, .notYetValid, .keyReplaced: 42  // bad_certificate
        case .revoked: 44  // certificate_revoked (a hold too, as a CRL's certificateHold entry is)
        case .expired: 45  // certificate_expired
        case .notIssuedHere: 48  // unknown_ca
        case .deviceCannotAct: 49  // access_denied
        case .unavailable: 80  // internal_error
        }
    }

    var alertName: String {
        switch alert {
        case 42: "bad_certificate"
        case 44: "certificate_revoked"
        case 45: "certificate_expired"
        case 48: "unknown_ca"
        case 49: "access_denied"
        default: "internal_error"
        }
    }
}

/// A client certificate's standing in the records.
enum ClientCertificateStanding: Sendable {
    case acting(DeviceRecord, StepUpRecord?)
    case refused(ClientCertificateRefusal)
}

extension DeviceAuthService {
    /// The mTLS handshake's decision on a client's chain (DER, leaf first): nil when the leaf
    /// chains through the issuing intermediate to the root, is a certificate this authority issued
    /// to a device, is neither revoked nor on hold nor outside its validity, and its device may act
    /// with it; otherwise why not, which names the TLS alert the handshake ends with.
    func decideClientChain(_ chain: [[UInt8]]) async -> ClientCertificateRefusal? {
        let refusal: ClientCertificateRefusal?
        do {
            refusal = try await refusalOfClientChain(chain)
        } catch {
            refusal = ClientCertificateRefusal(.unavailable, "the client certificate cannot be checked now: \(error)")
        }
        if let refusal { logger.info("mTLS handshake refused (\(refusal.alertName)): \(refusal.detail)") }
        return refusal
    }

    /// In the order that names the truest alert: whose certificate it is (unknown_ca) before what
    /// it says of itself (a forged certificate with an old date is not "expired").
    private func refusalOfClientChain(_ chain: [[UInt8]]) async throws -> ClientCertificateRefusal? {
        guard let first = chain.first, let leaf = try? Certificate(derEncoded: first) else {
            return ClientCertificateRefusal(.unreadable, "the client certificate cannot be read")
        }
        // The current issuing CA, or the one before a rotation while what it issued is in use.
        guard let issuer = issuingCAs.first(where: { leaf.issuer == $0.intermediate.subject && $0.intermediate.publicKey.isValidSignature(leaf.signature, for: leaf) })
        else {
            return ClientCertificateRefusal(.notIssuedHere, "the client certificate was not issued by this authority")
        }
        // A device certificate, not the responder's, the listener's or a CA's (the records below
        // would refuse those too; this does not depend on them).
        guard (try? leaf.extensions.extendedKeyUsage)??.contains(.clientAuth) == true,
            let constraints = try? leaf.extensions.basicConstraints as BasicConstraints??,
            constraints == nil || constraints == .notCertificateAuthority
        else {
            return ClientCertificateRefusal(.notADeviceCertificate, "the client certificate is not a device certificate")
        }
        let now = clock.now
        if now > leaf.notValidAfter { return ClientCertificateRefusal(.expired, "the client certificate expired at \(RFC3339.format(leaf.notValidAfter))") }
        if now < leaf.notValidBefore { return ClientCertificateRefusal(.notYetValid, "the client certificate is valid only from \(RFC3339.format(leaf.notValidBefore))") }
        var verifier = Verifier(rootCertificates: CertificateStore([ca.root])) {
            RFC5280Policy(fixedExpiryValidationTime: now)
        }
        let intermediates = chain.dropFirst().compactMap { try? Certificate(derEncoded: $0) } + [issuer.intermediate]
        guard case .validCertificate = await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) else {
            return ClientCertificateRefusal(.notIssuedHere, "the client certificate does not chain to this authority's root")
        }
        switch try await standing(of: leaf) {
        case .acting: return nil
        case .refused(let refusal): return refusal
        }
    }

    /// Checks a client certificate against the records: issued here, not revoked or on hold, not
    /// expired, and its device in a state that may act with the key the certificate holds.
    func deviceForClientCertificate(_ certificate: Certificate) async throws -> DeviceRecord {
        try await holder(of: certificate, readingStepUp: false).device
    }

    func holder(of certificate: Certificate, readingStepUp: Bool) async throws -> (device: DeviceRecord, stepUp: StepUpRecord?) {
        switch try await standing(of: certificate, readingStepUp: readingStepUp) {
        case .acting(let device, let stepUp): return (device, stepUp)
        case .refused(let refusal): throw refusal.problem
        }
    }

    /// What the records say of a client certificate: its device may act with it, or why not.
    func standing(of certificate: Certificate, readingStepUp: Bool = false) async throws -> ClientCertificateStanding {
        let serial = Hex.encode(certificate.serialNumber.bytes)
        let now = clock.seconds
        let (row, device, asked) = try await store.read { session -> (CertificateRecord?, DeviceRecord?, StepUpRecord?) in
            guard let row = try await session.certificates.find(serial: serial) else { return (nil, nil, nil) }
            return (row, try await session.devices.find(id: row.deviceId), readingStepUp ? try await session.stepUps.find(deviceID: row.deviceId) : nil)
        }
        guard let row, let device else {
            return .refused(ClientCertificateRefusal(.notIssuedHere, "the client certificate was not issued by this authority"))
        }
        guard row.revokedAt == nil else { return .refused(ClientCertificateRefusal(.revoked, "the client certificate is revoked or on hold")) }
        guard row.notBefore <= now, now < row.notAfter else { return .refused(ClientCertificateRefusal(now < row.notBefore ? .notYetValid : .expired, "the client certificate is not valid now")) }
        guard device.state.mayAct else {
            return .refused(ClientCertificateRefusal(.deviceCannotAct, "device \(device.id) is \(device.state.rawValue) and cannot act", forbidden: true))
        }
        guard let key = try? PublicKey(certificateKey: certificate.publicKey), ConstantTime.equals(key.thumbprint, device.keyThumbprint) else {
            return .refused(ClientCertificateRefusal(.keyReplaced, "the client certificate holds a key device \(device.id) no longer holds"))
        }
        return .acting(device, asked)
    }
}
