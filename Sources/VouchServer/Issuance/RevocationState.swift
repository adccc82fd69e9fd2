import Foundation
import Synchronization
import VouchCore
import VouchKit
import VouchStore
import X509

/// What is revoked, held in memory: the revoked and held certificates (with their CRL entries
/// encoded once) and the set status bits, as of a revocation generation.
///
/// It is loaded once, from the revoked rows only (through the indexes), and then follows the
/// revocation generations: every change to a certificate's revocation or to a status bit is stamped
/// with the generation its transaction took, so a newer generation is caught up with the rows changed
/// since, never by reading the tables again. An enrollment changes neither and costs it nothing.
///
/// On SQLite this server is the only writer, so the generation is looked at again only after it has
/// committed something (`VouchDatabase.localCommits`); on PostgreSQL, where other nodes write, it is
/// read on every use, so that a revocation made on any node shows on the next request to every node.
final class RevocationState: Sendable {
    /// A revoked (or held) certificate.
    struct Revoked: Sendable, Hashable {
        var revokedAt: Int
        var reason: RevocationReason
        var notAfter: Int
        /// Its CRL entry, DER.
        var entry: [UInt8]
    }

    /// A status list: purpose and number.
    struct ListKey: Sendable, Hashable {
        var purpose: StatusPurpose
        var number: Int
    }

    struct Snapshot: Sendable {
        /// The revocation generation this state is as of.
        var generation: Int
        /// Revoked and held certificates by serial (lower-case hex), expired ones included, so that
        /// OCSP keeps answering revoked for them.
        var certificates: [String: Revoked] = [:]
        /// The last generation that changed a certificate: the CRL is made again when it moves.
        var certificatesGeneration = 0
        /// The set bits of each list in use, as offsets within the list.
        var bits: [ListKey: Set<Int>] = [:]
        /// The last generation that changed each list.
        var listGenerations: [ListKey: Int] = [:]

        func status(ofSerial serial: String) -> Revoked? { certificates[serial] }
    }

    private let store: Store
    private let listSize: Int
    private let state = Mutex<Snapshot?>(nil)
    /// `localCommits` when the state was last found current (SQLite only).
    private let checkedAtCommits = Atomic<Int>(-1)

    init(store: Store, listSize: Int) {
        self.store = store
        self.listSize = listSize
    }

    /// The state as of the latest committed revocation generation.
    func current() async throws -> Snapshot {
        let commits = store.database.localCommits
        if let commits, checkedAtCommits.load(ordering: .acquiring) == commits, let snapshot = state.withLock({ $0 }) {
            return snapshot
        }
        // The generation is read before the rows: what is read holds at least that generation.
        let generation = try await store.read { try await $0.counters.current(.revocations) }
        let held = state.withLock { $0 }
        let snapshot: Snapshot
        if let held, held.generation >= generation {
            snapshot = held
        } else if let held {
            let (certificates, bits) = try await store.read { session in
                (try await session.certificates.revocationChanges(after: held.generation), try await session.statusBits.changes(after: held.generation))
            }
            var next = held
            next.generation = generation
            try apply(certificates, bits, to: &next)
            snapshot = keep(next)
        } else {
            let (certificates, latest, bits) = try await store.read { session in
                (
                    try await session.certificates.revoked(unexpiredAt: Int.min), try await session.certificates.latestRevocationGeneration(),
                    try await session.statusBits.allSet()
                )
            }
            var loaded = Snapshot(generation: generation)
            // What the CRL number follows: the same on every node that reads the same rows.
            loaded.certificatesGeneration = latest
            try apply(certificates, bits, to: &loaded)
            snapshot = keep(loaded)
        }
        if let commits { checkedAtCommits.store(commits, ordering: .releasing) }
        return snapshot
    }

    /// Keeps `snapshot` unless a newer one is held already; returns the one held.
    private func keep(_ snapshot: Snapshot) -> Snapshot {
        state.withLock { held in
            if let current = held, current.generation >= snapshot.generation { return current }
            held = snapshot
            return snapshot
        }
    }

    private func apply(_ certificates: [CertificateRecord], _ bits: [StatusBitChange], to snapshot: inout Snapshot) throws {
        for record in certificates {
            let generation = record.revocationGeneration ?? 0
            snapshot.certificatesGeneration = max(snapshot.certificatesGeneration, generation)
            guard let revokedAt = record.revokedAt else {
                snapshot.certificates[record.serial] = nil
                continue
            }
            guard let serial = Hex.decode(record.serial), !serial.isEmpty else { throw StoreError.corrupt("certificate serial \(record.serial) is not hex") }
            let reason = record.reason ?? .unspecified
            let entry = try CertificateAuthority.encodedEntry(
                RevokedCertificate(
                    serialNumber: Certificate.SerialNumber(bytes: ArraySlice(serial)),
                    revocationDate: Date(timeIntervalSince1970: TimeInterval(revokedAt)), reason: reason))
            snapshot.certificates[record.serial] = Revoked(revokedAt: revokedAt, reason: reason, notAfter: record.notAfter, entry: entry)
        }
        for change in bits {
            guard change.index >= 0 else { throw StoreError.corrupt("status bit \(change.index) is negative") }
            let key = ListKey(purpose: change.purpose, number: change.index / listSize)
            let offset = change.index % listSize
            if change.isSet {
                snapshot.bits[key, default: []].insert(offset)
            } else {
                snapshot.bits[key]?.remove(offset)
            }
            snapshot.listGenerations[key] = max(snapshot.listGenerations[key] ?? 0, change.generation)
        }
    }
}
