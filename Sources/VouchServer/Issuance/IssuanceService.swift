import Crypto
import Foundation
import Logging
import Synchronization
import VouchCore
import VouchKit
import VouchStore
import X509

/// What the authority signs: device certificates and credentials (see `+Identity`), the CRLs,
/// OCSP answers, status lists and the trust bundle (see `+Revocation`), and the mTLS listener's
/// server certificate. It owns the CA and issuer keys; no other service holds them.
final class IssuanceService: Sendable {
    let store: Store
    let ca: CertificateAuthority
    /// The intermediate before the last rotation, with its key and responder: it issues nothing, but
    /// answers for what it issued (CRL, OCSP, device authentication) until that has expired.
    let previousCA: CertificateAuthority?
    /// The root's own CRLs (see `rootRevocationList()`): the root key signs only those here, and
    /// may be kept offline.
    let rootCRLs: RootRevocationLists
    let issuerKey: SigningKey
    let issuer: CredentialIssuer
    /// The server's did:web.
    let did: DID
    let publicURL: String
    /// SPIFFE trust domain: the public URL's host.
    let trustDomain: String
    let policy: PolicyService
    let log: TransparencyLog
    let events: EventRecorder
    let logger: Logger
    /// How long an answer waits for a checkpoint to prove its issuance in.
    let receiptTimeout: Duration
    /// Where each slot's bit goes in its list: a keyed random position.
    let statusIndexes: StatusIndexPermutation
    /// Status-list slots reserved for enrollments and not yet used (see `reserveStatusIndex()`).
    let statusIndexPool = Mutex<[Int]>([])
    let revocationCache = Mutex(RevocationCache())
    /// What is revoked, followed from the revocation generations.
    let revocations: RevocationState
    /// Where CRLs and status lists are put together and signed: off the cooperative pool, since a
    /// large fleet's CRL takes milliseconds to hash.
    let signingThread = DatabaseThread(name: "vouch-revocation-signing")
    /// Signed OCSP answers kept until a certificate's status changes or they age (see `ocsp(_:)`).
    let ocspCache = Mutex(OCSPCache())

    static let statusIndexBlock = 64
    /// Status list capacity (the Bitstring Status List minimum, 16 KiB).
    static let statusListSize = BitstringStatusList.minimumSize
    /// How long the mTLS listener's server certificate lives; a new one (and key) is made at each start.
    static let serverCertificateLifetime: TimeInterval = 365 * 86_400

    var clock: ServerClock { events.clock }

    let issuingCAs: [CertificateAuthority]

    /// The issuing CA the first intermediate's URLs (`/v1/pki/crl`, `/v1/pki/intermediate.crt`) name
    /// while what it issued is in use; the current one otherwise.
    let firstGenerationCA: CertificateAuthority

    /// Where the CRL of the issuing CA of `generation` is published: the first keeps the path its
    /// certificates have always named.
    static func crlPath(generation: Int) -> String {
        generation == 1 ? "/v1/pki/crl" : "/v1/pki/issuers/\(generation)/crl"
    }

    /// Where the certificate of the issuing CA of `generation` is published (DER, for caIssuers).
    static func certificatePath(generation: Int) -> String {
        generation == 1 ? "/v1/pki/intermediate.crt" : "/v1/pki/issuers/\(generation)/certificate"
    }

    init(
        store: Store, ca: CertificateAuthority, previousCA: CertificateAuthority? = nil, rootCRLs: RootRevocationLists, issuerKey: SigningKey, statusIndexKey: [UInt8],
        publicURL: String, policy: PolicyService, log: TransparencyLog, events: EventRecorder, receiptTimeout: Duration, logger: Logger
    ) throws {
        self.store = store
        self.ca = ca
        self.previousCA = previousCA
        issuingCAs = [ca] + (previousCA.map { [$0] } ?? [])
        firstGenerationCA = issuingCAs.first { $0.generation == 1 } ?? ca
        self.rootCRLs = rootCRLs
        self.issuerKey = issuerKey
        self.publicURL = publicURL
        self.policy = policy
        self.log = log
        self.events = events
        self.receiptTimeout = receiptTimeout
        self.logger = logger
        self.statusIndexes = StatusIndexPermutation(key: statusIndexKey, listSize: Self.statusListSize)
        self.revocations = RevocationState(store: store, listSize: Self.statusListSize)
        guard let url = URL(string: publicURL), let host = url.host, !host.isEmpty else {
            throw ServerStartupError("the public URL \(publicURL) has no host")
        }
        self.trustDomain = host
        // did:web names the host (and port, percent-encoded); resolvers fetch it over https. An
        // http public URL (local development) still gets the same DID shape.
        let did: DID
        do {
            var text = "did:web:" + host.lowercased()
            if let port = url.port { text += "%3A\(port)" }
            let path = url.path.split(separator: "/").map(String.init)
            if !path.isEmpty { text += ":" + path.joined(separator: ":") }
            did = try DID(text)
        } catch {
            throw ServerStartupError("cannot derive a did:web from the public URL \(publicURL): \(error)")
        }
        self.did = did
        self.issuer = CredentialIssuer(key: issuerKey, did: did, keyID: did.description + "#" + issuerKey.publicKey.thumbprint)
    }

    deinit {
        signingThread.stop()
    }

    /// The server's DID document: the issuer key for assertions and authentication.
    var didDocument: DIDDocument {
        get throws {
            try DIDDocument(didWeb: did, keys: [issuerKey.publicKey])
        }
    }

    /// A server certificate for the mTLS listener, for `hosts`, over a key made now and kept only in
    /// memory. The issuance is recorded as an event like every other certificate the authority signs.
    func issueServerCertificate(hosts: [String]) async throws -> (Certificate, P256.Signing.PrivateKey) {
        var dnsNames: [String] = []
        var addresses: [[UInt8]] = []
        var addressNames: [String] = []
        for host in hosts {
            let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            guard !bare.isEmpty, bare != "0.0.0.0", bare != "::" else { continue }
            if let bytes = IPAddress(bare)?.bytes {
                if !addresses.contains(bytes) {
                    addresses.append(bytes)
                    addressNames.append(bare)
                }
            } else if !dnsNames.contains(bare.lowercased()) {
                dnsNames.append(bare.lowercased())
            }
        }
        let key = P256.Signing.PrivateKey()
        let issuedAt = clock.now
        let certificate = try ca.issueServerCertificate(
            dnsNames: dnsNames, ipAddresses: addresses, publicKey: Certificate.PublicKey(key.publicKey),
            notBefore: issuedAt.addingTimeInterval(-60), notAfter: issuedAt.addingTimeInterval(Self.serverCertificateLifetime)
        )
        let serial = Hex.encode(certificate.serialNumber.bytes)
        let names = dnsNames + addressNames
        _ = try await store.transaction { session in
            try await self.events.record(session, kind: .serverCertificateIssued, subject: "server", actor: "server", data: [
                "serial": .string(serial), "purpose": "mtls-listener",
                "names": .array(names.map(JSONValue.string)),
                "notAfter": .string(RFC3339.format(certificate.notValidAfter)),
            ])
        }
        return (certificate, key)
    }
}

/// Signed revocation artefacts, each for the generation of what it shows and the hour it was made in:
/// the CRL while no certificate's revocation changed, each status list while none of its bits did.
struct RevocationCache: Sendable {
    /// By issuing CA generation.
    var crls: [Int: (generation: Int, hour: Int, der: [UInt8])] = [:]
    var statusLists: [String: (generation: Int, hour: Int, token: String)] = [:]
    /// The most status lists kept signed (two purposes × lists in use: 256 lists is 33 million credentials).
    static let statusListLimit = 512
    /// The signed trust bundle, which embeds the first status lists: for their generations.
    var trustBundle: (generations: [Int], policyVersion: Int, hour: Int, token: String)?
}

/// Signed OCSP answers by request (DER), with the statuses they state; and by the GET path that
/// carried the request (RFC 6960 A.1), so that a repeated GET is answered without decoding it.
struct OCSPCache: Sendable {
    struct Entry: Sendable {
        /// Per requested certificate: its serial and the status the answer states.
        var statuses: [(serial: String, status: OCSPCertificateStatus)]
        /// The revocation state's certificates generation the statuses were read at: while it
        /// stands, they hold without being looked up again.
        var generation: Int
        var producedAt: Int
        var der: [UInt8]
        /// A strong validator for HTTP caches: the answer's SHA-256, shortened.
        var etag: String
        /// producedAt and nextUpdate as HTTP dates (Last-Modified, Expires).
        var lastModified: String
        var expires: String
    }

    var entries: [[UInt8]: Entry] = [:]
    /// The request (a key of `entries`) by the encoded form a GET carried it in.
    var paths: [String: [UInt8]] = [:]
    /// The most answers kept (about 1 KiB each, the responder certificate included), and the most
    /// GET paths remembered.
    static let limit = 16_384
}
