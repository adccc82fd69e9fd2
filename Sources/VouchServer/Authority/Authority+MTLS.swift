import Crypto
import Foundation
import Logging
import NIOSSL
import SwiftASN1
import VouchCore
import VouchKit
import VouchStore
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        // Ask for and require a client certificate; `verifyClientChain` decides whether it is good.
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates([try nio(ca.root)])
        return configuration
    }

    /// The mTLS handshake's decision on a client's chain (leaf first): the leaf must chain through the
    /// issuing intermediate to the root, be a certificate this authority issued to a device, not be
    /// revoked or on hold, and belong to a device that may act. Anything else ends the handshake.
    func verifyClientChain(_ chain: [NIOSSLCertificate]) async -> NIOSSLVerificationResult {
        do {
            let certificates = try chain.map { try Certificate(derEncoded: try $0.toDERBytes()) }
            guard let leaf = certificates.first else { return .failed }
            // A device certificate, not the responder's, the listener's or a CA's (the records below
            // would refuse those too; this does not depend on them).
            guard (try? leaf.extensions.extendedKeyUsage)??.contains(.clientAuth) == true,
                (try? leaf.extensions.basicConstraints) != .isCertificateAuthority(maxPathLength: nil),
                leaf.issuer == ca.intermediate.subject
            else {
                logger.info("mTLS handshake refused: the client certificate is not a device certificate of this authority")
                return .failed
            }
            var verifier = Verifier(rootCertificates: CertificateStore([ca.root])) {
                RFC5280Policy()
            }
            let result = await verifier.validate(
                leaf: leaf, intermediates: CertificateStore(certificates.dropFirst() + [ca.intermediate])
            )
            guard case .validCertificate = result else {
                logger.info("mTLS handshake refused: the client certificate does not chain to this authority")
                return .failed
            }
            _ = try await deviceForClientCertificate(leaf)
            return .certificateVerified
        } catch let error as APIError {
            logger.info("mTLS handshake refused: \(error.detail)")
            return .failed
        } catch {
            logger.info("mTLS handshake refused: the client certificate cannot be read")
            return .failed
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
