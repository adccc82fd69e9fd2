import Crypto
import Foundation
import HTTPTypes
import Logging
import Synchronization
import VouchCore
import VouchKit
import VouchStore
import X509

/// The trust authority: the certificate hierarchy, the credential issuer and the records, with the
/// operations the API exposes. Every change is one transaction that also appends its event.
public final class Authority: Sendable {
    let store: Store
    let ca: CertificateAuthority
    /// The root key, which signs only the root's own CRL here (see `rootRevocationList()`).
    let rootKey: P256.Signing.PrivateKey
    let issuerKey: SigningKey
    let issuer: CredentialIssuer
    /// The server's did:web.
    let did: DID
    let publicURL: String
    /// SPIFFE trust domain: the public URL's host.
    let trustDomain: String
    let logger: Logger
    let clock: @Sendable () -> Date
    let revocationCache = Mutex(RevocationCache())
    /// Mints and checks enrollment and authentication nonces.
    let nonces: NonceMinter
    /// The transparency log over the events.
    let log: TransparencyLog
    /// How long an answer waits for a checkpoint to prove its issuance in.
    let receiptTimeout: Duration
    /// When expired spent nonces were last purged (seconds); purging runs at most once a minute.
    let lastNoncePurge = Mutex(0)
    /// Enrollment groups' decoded rules, by their settings text (see `enrollmentRules(_:)`).
    let rulesCache = Mutex<[String: EnrollmentRules]>([:])
    /// Group commit of enrollments (see `Batcher`).
    let enrollmentBatcher = Batcher<EnrollmentWrite, EnrollmentBundle>()
    /// Status-list slots reserved for enrollments and not yet used (see `reserveStatusIndex()`).
    let statusIndexPool = Mutex<[Int]>([])
    /// Where each slot's bit goes in its list: a keyed random position.
    let statusIndexes: StatusIndexPermutation
    static let statusIndexBlock = 64

    /// The policy in force (see `Authority+Policy`).
    let policyState = Mutex(CompiledPolicy(version: 0, document: .empty))
    /// Devices as decisions need them.
    let directory = DeviceDirectory()
    /// What each device has been observed doing (telemetry, authentication, decisions), the
    /// signals raised, trust scores and the response rules that fire.
    let monitor = FleetMonitor()
    /// Responses ordered by the rules, for the `Responder` service.
    let responses = ResponseQueue()
    /// The highest telemetry sequence number accepted per device, within the clock window.
    let replayGuard = ReplayGuard(capacity: 1_000_000, window: 300)
    /// When this server started: telemetry signed earlier is beyond its replay memory.
    let startedAt: Date
    /// How many accepted telemetry messages to keep per device for the console (0: none).
    let telemetryKeep: Int
    /// The messages kept.
    let recentTelemetry = RecentTelemetry()
    /// Live API keys by secret digest (see `authenticate(apiKey:)`).
    let apiKeyCache = Mutex<[String: APIKeyRow]>([:])
    /// DPoP proofs seen (each serves one request).
    let dpopReplays = DPoPReplayGuard()
    /// The last event whose changes the directory and policy have taken up.
    let followedEvents = Mutex(0)

    /// Status list capacity (the Bitstring Status List minimum, 16 KiB).
    static let statusListSize = BitstringStatusList.minimumSize
    /// How long enrollment and authentication nonces live.
    static let nonceLifetime = 300
    /// Access token lifetime.
    static let accessTokenLifetime = 600
    /// Access token lifetime of a quarantined device.
    static let quarantineTokenLifetime = 120

    init(
        store: Store, ca: CertificateAuthority, rootKey: P256.Signing.PrivateKey, issuerKey: SigningKey, nonceKey: SymmetricKey, statusIndexKey: [UInt8], log: TransparencyLog, publicURL: String,
        receiptTimeout: Duration = .seconds(5), telemetryKeep: Int = 0, logger: Logger, clock: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        // Envelope times are whole seconds: the second the server starts in counts as its own (a
        // previous run would have had to stop within that same second to have seen one of them).
        self.startedAt = Date(timeIntervalSince1970: clock().timeIntervalSince1970.rounded(.down))
        self.telemetryKeep = telemetryKeep
        self.store = store
        self.log = log
        self.receiptTimeout = receiptTimeout
        self.nonces = NonceMinter(key: nonceKey)
        self.statusIndexes = StatusIndexPermutation(key: statusIndexKey, listSize: Self.statusListSize)
        self.ca = ca
        self.rootKey = rootKey
        self.issuerKey = issuerKey
        self.publicURL = publicURL
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
        self.logger = logger
        self.clock = clock
    }

    var now: Date { clock() }
    var nowSeconds: Int { Int(clock().timeIntervalSince1970) }

    /// The server's DID document: the issuer key for assertions and authentication.
    var didDocument: DIDDocument {
        get throws {
            try DIDDocument(didWeb: did, keys: [issuerKey.publicKey])
        }
    }

    /// Records an event inside the caller's transaction.
    func record(
        _ session: StoreSession, kind: String, subject: String, actor: String, data: [String: JSONValue] = [:]
    ) async throws {
        try await record(session, actor: actor, events: [(kind: kind, subject: subject, data: data)])
    }

    /// Records several events inside the caller's transaction, with consecutive sequence numbers.
    @discardableResult
    func record(
        _ session: StoreSession, actor: String, events: [(kind: String, subject: String, data: [String: JSONValue])]
    ) async throws -> [EventRow] {
        let drafts = Self.drafts(events, actor: actor)
        // A log entry travels in C2SP entry bundles after a 16-bit length: refuse what would not fit.
        for draft in drafts where draft.data.utf8.count + draft.subject.utf8.count + draft.actor.utf8.count + draft.kind.utf8.count > Self.maximumEventBytes {
            throw APIError(.contentTooLarge, "the change would record a \(draft.kind) event of over \(Self.maximumEventBytes) bytes; make the settings or names smaller")
        }
        return try await session.appendEvents(drafts, at: nowSeconds)
    }

    /// The largest event the transparency log takes (its entries must stay under 65,536 bytes).
    static let maximumEventBytes = 60_000

    /// Events as the store appends them: data as canonical JSON text, the actor on each.
    static func drafts(
        _ events: [(kind: String, subject: String, data: [String: JSONValue])], actor: String
    ) -> [(kind: String, subject: String, actor: String, data: String)] {
        events.map { (kind: $0.kind, subject: $0.subject, actor: actor, data: String(decoding: JSONValue.object($0.data).canonicalJSON, as: UTF8.self)) }
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, from json: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(json.utf8))
    }
}

/// Generated revocation artefacts: the CRL valid while no event has been recorded since, status
/// lists while the revocation generation stands; both for the hour they were made in.
struct RevocationCache: Sendable {
    var crl: (seq: Int, hour: Int, der: [UInt8])?
    /// The root's CRL, made once a day.
    var rootCRL: (day: Int, der: [UInt8])?
    var statusLists: [String: (generation: Int, hour: Int, token: String)] = [:]
    /// The most status lists kept signed (two purposes × lists in use: 256 lists is 33 million credentials).
    static let statusListLimit = 512
    /// The signed trust bundle, which embeds the first status lists.
    var trustBundle: (generation: Int, policyVersion: Int, hour: Int, token: String)?
}
