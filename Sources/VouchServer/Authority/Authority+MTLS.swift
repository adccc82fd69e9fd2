import Crypto
import Foundation
import Logging
import NIOSSL
import SwiftASN1
import VouchCore
import VouchKit
import VouchStore
@_spi(FixedExpiryValidationTime) import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    var problem: APIError { forbidden ? .forbidden(detail) : .unauthorized(detail) }

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
    case acting(DeviceRow, StepUpRow?)
    case refused(ClientCertificateRefusal)
}

extension Authority {
    /// How long the mTLS listener's server certificate lives; a new one (and key) is made at each start.
    static let serverCertificateLifetime: TimeInterval = 365 * 86_400

    /// The TLS configuration of the mTLS listener: a server certificate issued by the intermediate
    /// for `hosts` with a key made now and kept only in memory, and client certificates required.
    /// The issuance is recorded as an event like every other certificate the authority signs.
    func mtlsConfiguration(hosts: [String]) async throws -> TLSConfiguration {
        var dnsNames: [String] = []
        var addresses: [[UInt8]] = []
        var addressNames: [String] = []
        for host in hosts {
            let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            guard !bare.isEmpty, bare != "0.0.0.0", bare != "::" else { continue }
            if let bytes = Self.ipAddressBytes(bare) {
                if !addresses.contains(bytes) {
                    addresses.append(bytes)
                    addressNames.append(bare)
                }
            } else if !dnsNames.contains(bare.lowercased()) {
                dnsNames.append(bare.lowercased())
            }
        }
        let key = P256.Signing.PrivateKey()
        let issuedAt = now
        let certificate = try ca.issueServerCertificate(
            dnsNames: dnsNames, ipAddresses: addresses, publicKey: Certificate.PublicKey(key.publicKey),
            notBefore: issuedAt.addingTimeInterval(-60), notAfter: issuedAt.addingTimeInterval(Self.serverCertificateLifetime)
        )
        let serial = Hex.encode(certificate.serialNumber.bytes)
        let names = dnsNames + addressNames
        _ = try await store.transaction { session in
            try await self.record(session, kind: "server.certificate.issued", subject: "server", actor: "server", data: [
                "serial": .string(serial), "purpose": "mtls-listener",
                "names": .array(names.map(JSONValue.string)),
                "notAfter": .string(RFC3339.format(certificate.notValidAfter)),
            ])
        }
        func nio(_ certificate: Certificate) throws -> NIOSSLCertificate {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try nio(certificate)), .certificate(try nio(ca.intermediate))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem))
        )
        configuration.minimumTLSVersion = .tlsv12
        // Device keys are Ed25519 or P-256; BoringSSL leaves Ed25519 out of its defaults.
        configuration.verifySignatureAlgorithms = [.ed25519, .ecdsaSecp256R1Sha256, .ecdsaSecp384R1Sha384, .rsaPssRsaeSha256, .rsaPkcs1Sha256]
        // Ask for and require a client certificate; `decideClientChain` decides whether it is good
        // (MTLSChannel installs the callback that asks it).
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates([try nio(ca.root)])
        return configuration
    }

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
        guard leaf.issuer == ca.intermediate.subject, ca.intermediate.publicKey.isValidSignature(leaf.signature, for: leaf) else {
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
        let now = self.now
        if now > leaf.notValidAfter { return ClientCertificateRefusal(.expired, "the client certificate expired at \(RFC3339.format(leaf.notValidAfter))") }
        if now < leaf.notValidBefore { return ClientCertificateRefusal(.notYetValid, "the client certificate is valid only from \(RFC3339.format(leaf.notValidBefore))") }
        var verifier = Verifier(rootCertificates: CertificateStore([ca.root])) {
            RFC5280Policy(fixedExpiryValidationTime: now)
        }
        let intermediates = chain.dropFirst().compactMap { try? Certificate(derEncoded: $0) } + [ca.intermediate]
        guard case .validCertificate = await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) else {
            return ClientCertificateRefusal(.notIssuedHere, "the client certificate does not chain to this authority's root")
        }
        switch try await standing(of: leaf) {
        case .acting: return nil
        case .refused(let refusal): return refusal
        }
    }

    /// The 4 or 16 bytes of an IPv4 or IPv6 literal, or nil for a host name.
    static func ipAddressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
