import Crypto
import Foundation
import SwiftASN1
import X509

extension SigningKey {
    /// The key as swift-certificates sees it, to sign CSRs and certificates.
    public var certificatePrivateKey: Certificate.PrivateKey {
        switch backing {
        case .ed25519(let key): Certificate.PrivateKey(key)
        case .p256(let key): Certificate.PrivateKey(key)
        }
    }

    /// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the form openssl, curl and MQTT
    /// clients read. Handle with care: it is the private key.
    public var pkcs8PEMRepresentation: String {
        get throws {
            do {
                return try certificatePrivateKey.serializeAsPEM().pemString
            } catch {
                throw VouchKitError.cryptographicFailure("could not encode the key as PKCS#8: \(error)")
            }
        }
    }

    /// A PKCS#10 certificate signing request for this key, subject `CN=commonName`, signed by the key.
    public func certificateSigningRequest(commonName: String) throws -> CertificateSigningRequest {
        do {
            let subject = try DistinguishedName { CommonName(commonName) }
            let algorithm: Certificate.SignatureAlgorithm =
                switch backing {
                case .ed25519: .ed25519
                case .p256: .ecdsaWithSHA256
                }
            return try CertificateSigningRequest(
                version: .v1,
                subject: subject,
                privateKey: certificatePrivateKey,
                attributes: CertificateSigningRequest.Attributes(),
                signatureAlgorithm: algorithm
            )
        } catch {
            throw VouchKitError.cryptographicFailure("could not make a CSR: \(error)")
        }
    }
}
