import Crypto
import Foundation
import SwiftASN1
import VouchKit
import X509

/// The authority's X.509 hierarchy: a root, the issuing intermediate that signs device
/// certificates and CRLs, and the delegated OCSP responder. All keys are ECDSA P-256.
public struct CertificateAuthority: Sendable {
    public let root: Certificate
    public let intermediate: Certificate
    public let responder: Certificate
    let intermediateKey: P256.Signing.PrivateKey
    let responderKey: P256.Signing.PrivateKey
    /// The intermediate's issuer name and key hashes by hash algorithm, as OCSP CertIDs carry them.
    let issuerHashes: [ASN1ObjectIdentifier: IssuerHashes]
    /// `intermediate` then `root`, as PEM: the chain a device presents after its own certificate,
    /// written once (every enrollment answers with it).
    public let chainPEM: String

    /// Assembles a loaded hierarchy, refusing keys that do not match their certificates.
    public init(
        root: Certificate,
        intermediate: Certificate,
        intermediateKey: P256.Signing.PrivateKey,
        responder: Certificate,
        responderKey: P256.Signing.PrivateKey
    ) throws {
        guard intermediate.publicKey == Certificate.PublicKey(intermediateKey.publicKey) else {
            throw VouchCoreError.inconsistentAuthority("the intermediate key does not match the intermediate certificate")
        }
        guard responder.publicKey == Certificate.PublicKey(responderKey.publicKey) else {
            throw VouchCoreError.inconsistentAuthority("the OCSP responder key does not match its certificate")
        }
        guard intermediate.issuer == root.subject, responder.issuer == intermediate.subject else {
            throw VouchCoreError.inconsistentAuthority("the certificates do not form root → intermediate → responder")
        }
        self.root = root
        self.intermediate = intermediate
        self.responder = responder
        self.intermediateKey = intermediateKey
        self.responderKey = responderKey
        self.issuerHashes = try IssuerHashes.of(name: intermediate.subject, key: intermediateKey.publicKey)
        self.chainPEM = try Self.pem(intermediate) + "\n" + Self.pem(root) + "\n"
    }

    /// `certificate` as PEM text (no newline after the END line).
    public static func pem(_ certificate: Certificate) throws -> String {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return PEMText.encode(serializer.serializedBytes, label: "CERTIFICATE")
    }

    /// The keys a new hierarchy was made with; the caller stores them (mode 0600).
    public struct Keys: Sendable {
        public let root: P256.Signing.PrivateKey
        public let intermediate: P256.Signing.PrivateKey
        public let responder: P256.Signing.PrivateKey
    }

    /// A new hierarchy: root (10 years), intermediate (path length 0, 5 years), responder (1 year).
    /// `rootCRLURL`, where the root's own CRL is published, goes into the intermediate's CRL
    /// distribution point.
    public static func bootstrap(name: String, rootCRLURL: String? = nil, now: Date = Date()) throws -> (CertificateAuthority, Keys) {
        let keys = Keys(root: P256.Signing.PrivateKey(), intermediate: P256.Signing.PrivateKey(), responder: P256.Signing.PrivateKey())
        let start = now.addingTimeInterval(-300)
        let rootName = try DistinguishedName {
            OrganizationName("Vouch")
            CommonName("\(name) Root CA")
        }
        let rootKeyID = keyIdentifier(keys.root.publicKey)
        let root = try Certificate(
            version: .v3,
            serialNumber: Self.newSerialNumber(),
            publicKey: Certificate.PublicKey(keys.root.publicKey),
            notValidBefore: start,
            notValidAfter: now.addingTimeInterval(10 * 365.25 * 86_400),
            issuer: rootName,
            subject: rootName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(keyIdentifier: ArraySlice(rootKeyID))
            },
            issuerPrivateKey: Certificate.PrivateKey(keys.root)
        )
        let intermediateName = try DistinguishedName {
            OrganizationName("Vouch")
            CommonName("\(name) Issuing CA")
        }
        let intermediate = try Certificate(
            version: .v3,
            serialNumber: Self.newSerialNumber(),
            publicKey: Certificate.PublicKey(keys.intermediate.publicKey),
            notValidBefore: start,
            notValidAfter: now.addingTimeInterval(5 * 365.25 * 86_400),
            issuer: rootName,
            subject: intermediateName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(keyIdentifier: ArraySlice(keyIdentifier(keys.intermediate.publicKey)))
                AuthorityKeyIdentifier(keyIdentifier: ArraySlice(rootKeyID))
                if let rootCRLURL {
                    crlDistributionPoints(rootCRLURL)
                }
            },
            issuerPrivateKey: Certificate.PrivateKey(keys.root)
        )
        let responder = try issueResponder(
            name: name, key: keys.responder.publicKey, intermediate: intermediate, intermediateKey: keys.intermediate, now: now
        )
        let authority = try CertificateAuthority(
            root: root, intermediate: intermediate, intermediateKey: keys.intermediate,
            responder: responder, responderKey: keys.responder
        )
        return (authority, keys)
    }

    /// A fresh OCSP responder certificate (EKU OCSPSigning, id-pkix-ocsp-nocheck), valid one year.
    public static func issueResponder(
        name: String,
        key: P256.Signing.PublicKey,
        intermediate: Certificate,
        intermediateKey: P256.Signing.PrivateKey,
        now: Date
    ) throws -> Certificate {
        let noCheck = Certificate.Extension(
            oid: [1, 3, 6, 1, 5, 5, 7, 48, 1, 5], critical: false, value: [0x05, 0x00]
        )
        return try Certificate(
            version: .v3,
            serialNumber: Self.newSerialNumber(),
            publicKey: Certificate.PublicKey(key),
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(365 * 86_400),
            issuer: intermediate.subject,
            subject: try DistinguishedName {
                OrganizationName("Vouch")
                CommonName("\(name) OCSP Responder")
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.ocspSigning])
                SubjectKeyIdentifier(keyIdentifier: ArraySlice(keyIdentifier(key)))
                AuthorityKeyIdentifier(keyIdentifier: ArraySlice(keyIdentifier(intermediateKey.publicKey)))
                noCheck
            },
            issuerPrivateKey: Certificate.PrivateKey(intermediateKey)
        )
    }

    /// What a device certificate says.
    public struct DeviceProfile: Sendable {
        public var deviceID: String
        public var did: String
        public var spiffeID: String
        public var publicKey: Certificate.PublicKey
        public var notBefore: Date
        public var notAfter: Date
        /// Where the CRL is published (CRL distribution point), if the server has a public URL.
        public var crlURL: String?
        /// Where OCSP is answered (authority information access), if the server has a public URL.
        public var ocspURL: String?
        /// Where the issuing certificate can be fetched (authority information access).
        public var issuerURL: String?
        /// Which names the certificate carries.
        public var profile: CertificateProfile = .vouch

        public init(
            deviceID: String, did: String, spiffeID: String, publicKey: Certificate.PublicKey,
            notBefore: Date, notAfter: Date, crlURL: String? = nil, ocspURL: String? = nil, issuerURL: String? = nil
        ) {
            self.deviceID = deviceID
            self.did = did
            self.spiffeID = spiffeID
            self.publicKey = publicKey
            self.notBefore = notBefore
            self.notAfter = notAfter
            self.crlURL = crlURL
            self.ocspURL = ocspURL
            self.issuerURL = issuerURL
        }
    }

    /// A client certificate for a device: SAN URIs (DID and SPIFFE ID, or the SPIFFE ID alone for an
    /// X509-SVID), EKU clientAuth, SKI/AKI, CRL distribution point and OCSP/CA issuers access when
    /// URLs are known.
    public func issueDeviceCertificate(_ profile: DeviceProfile) throws -> Certificate {
        let subject = try DistinguishedName {
            OrganizationName("Vouch")
            CommonName(profile.deviceID)
        }
        var access: [AuthorityInformationAccess.AccessDescription] = []
        if let ocsp = profile.ocspURL {
            access.append(.init(method: .ocspServer, location: .uniformResourceIdentifier(ocsp)))
        }
        if let issuer = profile.issuerURL {
            access.append(.init(method: .issuingCA, location: .uniformResourceIdentifier(issuer)))
        }
        let crlDistribution = profile.crlURL.map(Self.crlDistributionPoints)
        return try Certificate(
            version: .v3,
            serialNumber: Self.newSerialNumber(),
            publicKey: profile.publicKey,
            notValidBefore: profile.notBefore,
            notValidAfter: profile.notAfter,
            issuer: intermediate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
                SubjectAlternativeNames(
                    profile.profile == .spiffeSVID
                        ? [.uniformResourceIdentifier(profile.spiffeID)]
                        : [.uniformResourceIdentifier(profile.did), .uniformResourceIdentifier(profile.spiffeID)])
                SubjectKeyIdentifier(hash: profile.publicKey)
                AuthorityKeyIdentifier(keyIdentifier: ArraySlice(intermediateKeyIdentifier))
                if !access.isEmpty {
                    AuthorityInformationAccess(access)
                }
                if let crlDistribution {
                    crlDistribution
                }
            },
            issuerPrivateKey: Certificate.PrivateKey(intermediateKey)
        )
    }

    /// A TLS server certificate for the authority's own mTLS listener: EKU serverAuth, SAN DNS names
    /// and IP addresses (4 or 16 bytes each), issued by the intermediate.
    public func issueServerCertificate(
        dnsNames: [String], ipAddresses: [[UInt8]], publicKey: Certificate.PublicKey, notBefore: Date, notAfter: Date
    ) throws -> Certificate {
        var names = dnsNames.map(GeneralName.dnsName)
        names += ipAddresses.map { .ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) }
        guard !names.isEmpty else { throw VouchCoreError.inconsistentAuthority("a server certificate needs at least one name") }
        return try Certificate(
            version: .v3,
            serialNumber: Self.newSerialNumber(),
            publicKey: publicKey,
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: intermediate.subject,
            subject: try DistinguishedName {
                OrganizationName("Vouch")
                CommonName(dnsNames.first ?? "Vouch mTLS listener")
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: ArraySlice(intermediateKeyIdentifier))
            },
            issuerPrivateKey: Certificate.PrivateKey(intermediateKey)
        )
    }

    /// A fresh serial number: 20 octets, positive, and 159 random bits (RFC 5280 §4.2.1.2 wants at
    /// most 20 octets; the CA/Browser Forum at least 64 random bits). The first octet is kept within
    /// 0x01…0x7F, so that DER needs no leading zero (which would make 21 octets) and drops none.
    public static func newSerialNumber() -> Certificate.SerialNumber {
        // 158 random bits, positive and with no leading zero byte (RFC 5280 §4.1.2.2: at most 20 octets).
        var bytes = SecureRandom.bytes(20)
        bytes[0] = bytes[0] & 0x7F | 0x01
        return Certificate.SerialNumber(bytes: ArraySlice(bytes))
    }

    /// The intermediate's key identifier (SHA-1 of its public key bits, RFC 5280 §4.2.1.2 method 1).
    public var intermediateKeyIdentifier: [UInt8] { Self.keyIdentifier(intermediateKey.publicKey) }

    static func keyIdentifier(_ key: P256.Signing.PublicKey) -> [UInt8] {
        Array(Insecure.SHA1.hash(data: DERSupport.publicKeyBits(key)))
    }

    /// `CRLDistributionPoints ::= SEQUENCE OF DistributionPoint` with one full-name URI.
    static func crlDistributionPoints(_ url: String) -> Certificate.Extension {
        var coder = DER.Serializer()
        coder.appendConstructedNode(identifier: .sequence) { coder in
            coder.appendConstructedNode(identifier: .sequence) { coder in
                // distributionPoint [0] (EXPLICIT: DistributionPointName is a CHOICE)
                coder.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { coder in
                    // fullName [0] IMPLICIT GeneralNames
                    coder.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { coder in
                        // uniformResourceIdentifier [6] IMPLICIT IA5String
                        coder.appendPrimitiveNode(identifier: ASN1Identifier(tagWithNumber: 6, tagClass: .contextSpecific)) {
                            $0.append(contentsOf: Array(url.utf8))
                        }
                    }
                }
            }
        }
        return Certificate.Extension(oid: [2, 5, 29, 31], critical: false, value: ArraySlice(coder.serializedBytes))
    }
}
