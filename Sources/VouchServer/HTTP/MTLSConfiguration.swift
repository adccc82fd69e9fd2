import Crypto
import NIOSSL
import VouchCore
import SwiftASN1
import X509

extension TLSConfiguration {
    /// The TLS configuration of the mTLS listener: a server certificate issued by the intermediate
    /// for `hosts` with a key made now and kept only in memory, and client certificates required.
    static func mtlsListener(issuance: IssuanceService, hosts: [String]) async throws -> TLSConfiguration {
        let (certificate, key) = try await issuance.issueServerCertificate(hosts: hosts)
        func nio(_ certificate: Certificate) throws -> NIOSSLCertificate {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try nio(certificate)), .certificate(try nio(issuance.ca.intermediate))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem))
        )
        configuration.minimumTLSVersion = .tlsv12
        // Device keys are Ed25519 or P-256; BoringSSL leaves Ed25519 out of its defaults.
        configuration.verifySignatureAlgorithms = [.ed25519, .ecdsaSecp256R1Sha256, .ecdsaSecp384R1Sha384, .rsaPssRsaeSha256, .rsaPkcs1Sha256]
        // Ask for and require a client certificate; `DeviceAuthService.decideClientChain` decides
        // whether it is good (MTLSChannel installs the callback that asks it).
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates([try nio(issuance.ca.root)])
        return configuration
    }
}
