import Foundation
import Synchronization
import VouchCore
import VouchKit
import VouchStore
import X509

/// What is revoked, held in memory: the revoked and held certificates (with their CRL entries
/// encoded once, kept in serial order) and the set status bits, as of a revocation generation.
///
/// It is loaded once, from the revoked rows only (through the indexes), and then follows the
/// revocation generations: every change to a certificate's revocation or to a status bit is stamped
/// with the generation its transaction took, so a newer generation is caught up with the rows changed
/// since, never by reading the tables again. An enrollment changes neither and costs it nothing.
/// Changes are applied in place, under the lock, so that a revocation costs the state what it
/// changes, not a copy of everything revoked.
///
/// On SQLite this server is the only writer, so the generation is looked at again only after it has
/// committed a transaction that advanced it (`VouchDatabase.localCommits(advancing:)`); on PostgreSQL, where other nodes write, it is
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

    /// What a CRL is made of: the entries of the revoked certificates not expired by `now`, in
    /// serial order, and the generation of the last certificate change (what the CRL number follows).
    struct CRLContents: Sendable {
        var generation: Int
        var entries: [[UInt8]]
    }

    private struct Storage {
        /// The revocation generation this state is as of.
        var generation: Int
        /// Revoked and held certificates by serial (lower-case hex), expired ones included, so that
        /// OCSP keeps answering revoked for them.
        var certificates: [String: Revoked] = [:]
        /// The same serials in order, for the CRL (hex of equal length sorts as the numbers do,
        /// and serials here are all 20 hex digits or fewer; the CRL needs only a stable order).
        var ordered: [String] = []
        /// The last generation that changed a certificate: the CRL is made again when it moves.
        var certificatesGeneration = 0
        /// The set bits of each list in use, as offsets within the list.
        var bits: [ListKey: Set<Int>] = [:]
        /// The last generation that changed each list.
        var listGenerations: [ListKey: Int] = [:]

        mutating func put(_ serial: String, _ revoked: Revoked?) {
            let position = ordered.partitioningIndex { $0 >= serial }
            let present = position < ordered.count && ordered[position] == serial
            if let revoked {
                certificates[serial] = revoked
                if !present { ordered.insert(serial, at: position) }
            } else if present {
                certificates[serial] = nil
                ordered.remove(at: position)
            }
        }
    }

    private let store: Store
    private let listSize: Int
    private let storage = Mutex<Storage?>(nil)
    /// `localCommits(advancing: .revocations)` when the state was last found current (SQLite only).
    private let checkedAtCommits = Atomic<Int>(-1)

    init(store: Store, listSize: Int) {
        self.store = store
        self.listSize = listSize
    }

    /// Brings the state up to the latest committed revocation generation: it returns only once the
    /// state holds at least the generation read at its start. Concurrent calls may each read the
    /// same changes; only the first applies them, and the others read again from where it left the
    /// state, so no change is ever dropped.
    func sync() async throws {
        let commits = store.database.localCommits(advancing: .revocations)
        if let commits, checkedAtCommits.load(ordering: .acquiring) == commits, storage.withLock({ $0 != nil }) {
            return
        }
        // The generation is read before the rows: what is read holds at least that generation.
        let generation = try await store.read { try await $0.counters.current(.revocations) }
        while true {
            let held = storage.withLock { $0?.generation }
            if let held, held >= generation { break }
            if let held {
                let (certificates, bits) = try await store.read { session in
                    (try await session.certificates.revocationChanges(after: held), try await session.statusBits.changes(after: held))
                }
                let changes = try certificates.map { ($0, try Self.revoked($0)) }
                storage.withLock { storage in
                    // Only onto the generation the changes were read after; otherwise read again.
                    guard storage != nil, storage!.generation == held else { return }
                    self.apply(changes, bits, to: &storage!)
                    storage!.generation = generation
                }
            } else {
                let (certificates, latest, bits) = try await store.read { session in
                    (
                        try await session.certificates.revoked(unexpiredAt: Int.min), try await session.certificates.latestRevocationGeneration(),
                        try await session.statusBits.allSet()
                    )
                }
                let changes = try certificates.map { ($0, try Self.revoked($0)) }
                var loaded = Storage(generation: generation)
                // What the CRL number follows: the same on every node that reads the same rows.
                loaded.certificatesGeneration = latest
                apply(changes, bits, to: &loaded)
                storage.withLock { storage in
                    if storage == nil { storage = loaded }
                }
            }
        }
        // Only now is the state known to hold every commit counted by `commits`.
        if let commits { checkedAtCommits.store(commits, ordering: .releasing) }
    }

    /// The certificate's revocation, if it is revoked or held (as of the last `sync()`).
    func revoked(serial: String) -> Revoked? {
        storage.withLock { $0?.certificates[serial] }
    }

    /// The CRL's contents: entries of certificates not expired at `now`.
    func crl(unexpiredAt now: Int) -> CRLContents {
        storage.withLock { storage in
            guard let storage else { return CRLContents(generation: 0, entries: []) }
            var entries: [[UInt8]] = []
            entries.reserveCapacity(storage.ordered.count)
            for serial in storage.ordered {
                if let revoked = storage.certificates[serial], revoked.notAfter > now { entries.append(revoked.entry) }
            }
            return CRLContents(generation: storage.certificatesGeneration, entries: entries)
        }
    }

    /// The generation of the last change to the certificates (what the CRL follows).
    var certificatesGeneration: Int {
        storage.withLock { $0?.certificatesGeneration ?? 0 }
    }

    /// The generation of the last change to a list.
    func generation(of list: ListKey) -> Int {
        storage.withLock { $0?.listGenerations[list] ?? 0 }
    }

    /// A list's set bits (offsets within it) and the generation of its last change.
    func bits(of list: ListKey) -> (generation: Int, offsets: [Int]) {
        storage.withLock { storage in
            (storage?.listGenerations[list] ?? 0, Array(storage?.bits[list] ?? []))
        }
    }

    /// A certificate record's revocation, with its CRL entry encoded (outside the lock).
    private static func revoked(_ record: CertificateRecord) throws -> Revoked? {
        guard let revokedAt = record.revokedAt else { return nil }
        guard let serial = Hex.decode(record.serial), !serial.isEmpty else { throw StoreError.corrupt("certificate serial \(record.serial) is not hex") }
        let reason = record.reason ?? .unspecified
        let entry = try CertificateAuthority.encodedEntry(
            RevokedCertificate(
                serialNumber: Certificate.SerialNumber(bytes: ArraySlice(serial)),
                revocationDate: Date(timeIntervalSince1970: TimeInterval(revokedAt)), reason: reason))
        return Revoked(revokedAt: revokedAt, reason: reason, notAfter: record.notAfter, entry: entry)
    }

    private func apply(_ certificates: [(CertificateRecord, Revoked?)], _ bits: [StatusBitChange], to storage: inout Storage) {
        for (record, revoked) in certificates {
            storage.certificatesGeneration = max(storage.certificatesGeneration, record.revocationGeneration ?? 0)
            storage.put(record.serial, revoked)
        }
        for change in bits where change.index >= 0 {
            let key = ListKey(purpose: change.purpose, number: change.index / listSize)
            let offset = change.index % listSize
            if change.isSet {
                storage.bits[key, default: []].insert(offset)
            } else {
                storage.bits[key]?.remove(offset)
            }
            storage.listGenerations[key] = max(storage.listGenerations[key] ?? 0, change.generation)
        }
    }
}

extension Array {
    /// The first index whose element satisfies `belongs`, for a predicate that is false then true
    /// along the array (a binary search).
    fileprivate func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
