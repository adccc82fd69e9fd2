import Foundation
import HummingbirdCore
import HummingbirdTLS
import NIOSSL

/// TLS on the main listener (`--tls-cert`, `--tls-key`), so that admin keys and device tokens never
/// travel in clear: TLS 1.2 and 1.3, the certificate chain and key read at start, the key file
/// refused unless only its owner may read it.
enum MainListenerTLS {
    static func server(_ configuration: ServerConfiguration) throws -> HTTPServerBuilder {
        switch (configuration.tlsCertificateFile, configuration.tlsKeyFile) {
        case (nil, nil):
            return .http1()
        case (let certificateFile?, let keyFile?):
            return try .tls(tlsConfiguration: try tlsConfiguration(certificateFile: certificateFile, keyFile: keyFile))
        default:
            throw ServerStartupError("TLS needs both --tls-cert and --tls-key (a PEM certificate chain and its private key)")
        }
    }

    static func tlsConfiguration(certificateFile: String, keyFile: String) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw ServerStartupError("cannot read the TLS certificate chain \(certificateFile) (PEM, the server's certificate first): \(error)")
        }
        guard !chain.isEmpty else { throw ServerStartupError("\(certificateFile) holds no PEM certificate") }
        try DataDirectory.requirePrivate(keyFile, kind: "the TLS private key")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw ServerStartupError("cannot read the TLS private key \(keyFile) (PEM, unencrypted): \(error)")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        // The key must be the certificate's: checked now, not at the first handshake.
        do {
            _ = try NIOSSLContext(configuration: tls)
        } catch {
            throw ServerStartupError("the TLS key \(keyFile) does not go with the certificate \(certificateFile): \(error)")
        }
        return tls
    }
}
