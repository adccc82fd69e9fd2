import Foundation
import Logging
import Synchronization
import VouchCore
import VouchKit
import VouchStore

/// The transparency log over the events table (RFC 6962 tree, C2SP checkpoints and tiles).
///
/// The sequencer (`sequence()`, run by `LogSequencer`) appends every committed event in batches:
/// it hashes the entries, stores the tree nodes they complete, and signs a checkpoint of the new
/// size, in one transaction; a crash in between leaves the tree and checkpoints as they were.
/// With witnesses configured, the signed checkpoint waits in `log_pending` until `quorum` of them
/// have cosigned it, and is published then. Proofs and tiles are read from the stored nodes, never
/// recomputed from the entries.
final class TransparencyLog: Sendable {
    struct Published: Sendable {
        var size: UInt64
        var root: MerkleHash
        /// The signed note, with the log's signature and any witnesses' cosignatures.
        var note: String
    }

    struct Configuration: Sendable {
        /// The shortest time between two checkpoints.
        var interval: Duration = .seconds(1)
        /// Witnesses whose cosignatures count towards publication.
        var witnesses: [CosignatureVerifier] = []
        /// How many witnesses must cosign before a checkpoint is published; 0 publishes at once.
        var quorum = 0
        /// The most entries one batch appends.
        var batchLimit = 50_000
        /// How long a checkpoint waits for witnesses before a newer one replaces it.
        var pendingLifetime: Duration = .seconds(30)
    }

    let store: Store
    let signer: NoteSigner
    let configuration: Configuration
    let logger: Logger
    let clock: @Sendable () -> Date

    private struct State: Sendable {
        /// The right edge of the stored tree (integrated, maybe not yet published).
        var frontier = MerkleFrontier()
        var published: Published?
        var waiters: [(deadline: ContinuousClock.Instant, size: UInt64, continuation: CheckedContinuation<Published?, Never>)] = []
    }
    private let state = Mutex(State())

    /// The checkpoint origin: the log key's name, `<public host>/vouch/log`.
    var origin: String { signer.name }

    init(store: Store, signer: NoteSigner, configuration: Configuration, logger: Logger, clock: @escaping @Sendable () -> Date) {
        self.store = store
        self.signer = signer
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
    }

    /// The latest published checkpoint.
    var published: Published? { state.withLock { $0.published } }

    // MARK: Start

    /// Loads the stored tree's right edge and the latest checkpoint, and checks that the stored
    /// nodes still produce the root that checkpoint signed.
    func load() async throws {
        let (frontier, latest) = try await store.read { session in
            (try await Self.frontier(session), try await session.log.latestCheckpoint())
        }
        if let latest {
            guard latest.size <= frontier.size else {
                throw ServerStartupError("the log's checkpoint of size \(latest.size) is larger than its stored tree (\(frontier.size) entries)")
            }
            let root = try await root(size: latest.size)
            guard root == latest.root else {
                throw ServerStartupError(
                    "the stored log tree has root \(root) at size \(latest.size), but the published checkpoint signed \(latest.root): the log's nodes were altered"
                )
            }
        }
        state.withLock {
            $0.frontier = frontier
            $0.published = latest.map { Published(size: $0.size, root: $0.root, note: $0.note) }
        }
    }

    /// The frontier of the tree stored in `session`.
    private static func frontier(_ session: StoreSession) async throws -> MerkleFrontier {
        let size = try await session.log.size()
        let nodes = MerkleProofs.rootNodes(size: size)
        let hashes = try await session.log.nodes(nodes)
        return try MerkleFrontier(size: size, hashes: try nodes.map { node in
            guard let hash = hashes[node] else { throw LogFailure.missingNode(node) }
            return hash
        })
    }

    // MARK: Sequencing

    /// Whether checkpoints wait for witnesses' cosignatures before they are published.
    var witnessed: Bool { !configuration.witnesses.isEmpty && configuration.quorum > 0 }

    /// Appends the events committed since the last batch and publishes (or, with witnesses, signs
    /// and holds) a checkpoint of the new size; then takes up what other nodes sharing the database
    /// published. Returns the number of entries appended.
    @discardableResult
    func sequence() async throws -> Int {
        let appended = try await append()
        if witnessed { try await holdPendingCheckpoint() }
        try await refresh()
        try await fillUpperLevels()
        return appended
    }

    /// Reads into memory upper-level nodes stored but not yet kept (at start, after another node's
    /// appends): at most `reads` runs of `upperReadSize` nodes per call, so that a large log
    /// is taken up over a few passes of the sequencer, not in one long hold of a reader.
    private func fillUpperLevels(reads: Int = 16) async throws {
        for _ in 0..<reads {
            let size = storedSize
            guard let run = upper.withLock({ $0.missing(storedSize: size, limit: Self.upperReadSize) }) else { return }
            let hashes = try await store.read { try await $0.log.nodes(level: run.level, from: run.first, count: run.count) }
            guard hashes.count == run.count else { throw LogFailure.missingNode(MerkleNode(level: run.level, index: run.first + UInt64(hashes.count))) }
            upper.withLock { $0.add(level: run.level, from: run.first, hashes) }
        }
    }

    /// Upper-level nodes read per statement when filling them in.
    private static let upperReadSize = 4096

    private func append() async throws -> Int {
        let start = state.withLock { $0.frontier }
        let events = try await store.read { try await $0.events.after(Int(start.size), limit: self.configuration.batchLimit) }
        var frontier = start
        var nodes: [(node: MerkleNode, hash: MerkleHash)] = []
        nodes.reserveCapacity(events.count * 2)
        for event in events {
            // Events commit in sequence order; a gap is one not visible yet (or a tampered table):
            // stop before it rather than skip it.
            guard event.seq == Int(frontier.size) + 1 else { break }
            nodes.append(contentsOf: frontier.append(leafHash: MerkleHash.leafHash(LogEntry.encode(event))))
        }
        let appended = Int(frontier.size - start.size)
        guard appended > 0 else { return 0 }
        // Without witnesses the checkpoint is published with the nodes; with them, it is signed and
        // held separately (`holdPendingCheckpoint`).
        let note = witnessed ? nil : try signer.sign(try Checkpoint(origin: origin, size: frontier.size, rootHash: frontier.root).text).serialized
        let (newNodes, tree) = (nodes, frontier)
        let stamp = Int(clock().timeIntervalSince1970)
        let outcome: Bool = try await store.transaction { session in
            try await session.log.lock()
            // Another node sharing the database may have appended meanwhile: then this batch is void.
            guard try await session.log.size() == start.size else { return false }
            try await session.log.insertNodes(newNodes)
            if let note {
                try await session.log.insertCheckpoint(size: tree.size, root: tree.root, note: note, at: stamp)
            }
            return true
        }
        guard outcome else {
            let reloaded = try await store.read { try await Self.frontier($0) }
            state.withLock { $0.frontier = reloaded }
            logger.info("the log was extended by another node; reloaded its tree", metadata: ["log.size": "\(reloaded.size)"])
            return 0
        }
        state.withLock { $0.frontier = frontier }
        upper.withLock { $0.add(newNodes) }
        if let note {
            publish(Published(size: frontier.size, root: frontier.root, note: note))
        }
        return appended
    }

    /// With witnesses: signs a checkpoint of the stored tree for them to cosign, unless one still
    /// waits. A pending checkpoint stays until it is published or `pendingLifetime` passes, so that
    /// witnesses polling at different moments cosign the same one.
    private func holdPendingCheckpoint() async throws {
        let frontier = state.withLock { $0.frontier }
        guard frontier.size > (published?.size ?? 0) else { return }
        let stamp = Int(clock().timeIntervalSince1970)
        let lifetime = Int(configuration.pendingLifetime.components.seconds)
        try await store.transaction { session in
            try await session.log.lock()
            if let pending = try await session.log.pendingCheckpoint(), pending.size >= frontier.size || stamp - pending.createdAt < lifetime {
                return
            }
            if let latest = try await session.log.latestCheckpoint(), latest.size >= frontier.size { return }
            // Signed only now: while a checkpoint waits, a tick signs nothing.
            let note = try self.signer.sign(try Checkpoint(origin: self.origin, size: frontier.size, rootHash: frontier.root).text).serialized
            try await session.log.insertPending(size: frontier.size, note: note, at: stamp)
        }
    }

    /// Takes up a checkpoint published by another node sharing the database (or through a
    /// cosignature another node received), and the tree it covers.
    private func refresh() async throws {
        guard let latest = try await store.read({ try await $0.log.latestCheckpoint() }), latest.size > (published?.size ?? 0) else { return }
        if latest.size > storedSize {
            let reloaded = try await store.read { try await Self.frontier($0) }
            state.withLock { if reloaded.size > $0.frontier.size { $0.frontier = reloaded } }
        }
        publish(Published(size: latest.size, root: latest.root, note: latest.note))
    }

    /// Makes `checkpoint` the one served, and answers those waiting for it.
    func publish(_ checkpoint: Published) {
        let ready = state.withLock { state -> [CheckedContinuation<Published?, Never>] in
            guard checkpoint.size > (state.published?.size ?? 0) else { return [] }
            state.published = checkpoint
            let ready = state.waiters.filter { $0.size <= checkpoint.size }.map(\.continuation)
            state.waiters.removeAll { $0.size <= checkpoint.size }
            return ready
        }
        for continuation in ready { continuation.resume(returning: checkpoint) }
    }

    /// Waits until a published checkpoint covers `size` entries, or `timeout` passes (nil then).
    /// The sequencer's loop ends waits past their deadline (`expireWaiters`), within one interval.
    func waitForCheckpoint(covering size: UInt64, timeout: Duration) async -> Published? {
        let deadline = ContinuousClock.now + timeout
        return await withCheckedContinuation { continuation in
            let ready: Published? = state.withLock { state in
                if let published = state.published, published.size >= size { return published }
                state.waiters.append((deadline, size, continuation))
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Answers (with nil) the waits past their deadline; all of them when the server stops.
    func expireWaiters(all: Bool = false) {
        let now = ContinuousClock.now
        let expired = state.withLock { state in
            let expired = state.waiters.filter { all || $0.deadline <= now }.map(\.continuation)
            state.waiters.removeAll { all || $0.deadline <= now }
            return expired
        }
        for continuation in expired { continuation.resume(returning: nil) }
    }

    // MARK: Reading

    /// The size up to which proofs and tiles are served: the stored tree, which may be ahead of the
    /// published checkpoint while witnesses cosign.
    var storedSize: UInt64 { state.withLock { $0.frontier.size } }

    /// The root of the stored tree at `size`.
    func root(size: UInt64) async throws -> MerkleHash {
        let hashes = try await nodes(MerkleProofs.rootNodes(size: size))
        return try MerkleProofs.root(size: size) { try Self.lookup(hashes, $0) }
    }

    /// The consistency proof from the tree of `oldSize` to the tree of `newSize`.
    func consistencyProof(from oldSize: UInt64, to newSize: UInt64) async throws -> ConsistencyProof {
        let hashes = try await nodes(MerkleProofs.consistencyNodes(oldSize: oldSize, newSize: newSize))
        return try MerkleProofs.consistencyProof(oldSize: oldSize, newSize: newSize) { try Self.lookup(hashes, $0) }
    }

    /// The entries `range` as stored (events missing from the table are left out).
    func entries(_ range: Range<UInt64>) async throws -> [(index: UInt64, entry: [UInt8])] {
        guard !range.isEmpty else { return [] }
        let events = try await store.read { try await $0.events.after(Int(range.lowerBound), limit: range.count) }
        return events.filter { range.contains(LogEntry.index(of: $0)) }.map { (LogEntry.index(of: $0), LogEntry.encode($0)) }
    }

    /// Entry `index` and its inclusion proof in the tree of `size`, read from the database at once
    /// (one hand-off to a reader thread, where reading the entry and then the nodes took two); nil
    /// when the event is not in the table.
    func inclusion(index: UInt64, size: UInt64) async throws -> (entry: [UInt8], proof: InclusionProof)? {
        let (cached, missing) = cachedNodes(MerkleProofs.inclusionNodes(leafIndex: index, treeSize: size))
        // By key: the entry, and the few nodes below the upper levels kept in memory.
        let (events, read) = try await store.readByKey { session in
            (try await session.events.after(Int(index), limit: 1), missing.isEmpty ? [:] : try await session.log.nodes(missing))
        }
        guard let event = events.first, LogEntry.index(of: event) == index else { return nil }
        let found = cached.merging(read) { $1 }
        let proof = try MerkleProofs.inclusionProof(leafIndex: index, treeSize: size) { try Self.lookup(found, $0) }
        return (LogEntry.encode(event), proof)
    }

    /// A receipt for entry `index` against the published checkpoint; nil when no published
    /// checkpoint covers it or the event is not in the table.
    func receipt(index: UInt64, checkpoint: Published) async throws -> LogReceipt? {
        guard index < checkpoint.size, let (entry, proof) = try await inclusion(index: index, size: checkpoint.size) else { return nil }
        return LogReceipt(
            index: index, entry: String(decoding: entry, as: UTF8.self), treeSize: checkpoint.size, inclusionProof: proof.hashes,
            checkpoint: checkpoint.note)
    }

    /// A hash tile's bytes (its hashes, concatenated) or an entry bundle's (each entry after its
    /// length as a big-endian 16-bit number), as of the tree at `size`; nil when the tree does not
    /// hold that tile at that width.
    func tile(_ tile: LogTile, size: UInt64) async throws -> [UInt8]? {
        guard let available = LogTile.current(level: tile.level, index: tile.index, treeSize: size), available.width >= tile.width else {
            return nil
        }
        if let tileLevel = tile.level {
            let first = tile.index * UInt64(LogTile.fullWidth)
            let level = tileLevel * LogTile.height
            if let kept = upper.withLock({ $0.hashes(level: level, from: first, count: tile.width) }) { return kept.flatMap(\.bytes) }
            let hashes = try await store.read { try await $0.log.nodes(level: level, from: first, count: tile.width) }
            guard hashes.count == tile.width else { throw LogFailure.missingNode(MerkleNode(level: level, index: first + UInt64(hashes.count))) }
            return hashes.flatMap(\.bytes)
        }
        let entries = try await entries(tile.entryRange)
        guard entries.count == tile.width else { return nil }
        var bundle: [UInt8] = []
        for (index, entry) in entries {
            guard entry.count <= Int(UInt16.max) else { throw LogFailure.entryTooLong(index) }
            bundle.append(UInt8(entry.count >> 8))
            bundle.append(UInt8(entry.count & 0xFF))
            bundle.append(contentsOf: entry)
        }
        return bundle
    }

    /// The hashes of `nodes`: those of the upper levels from memory (see `UpperLevels`), the others
    /// from the database.
    private func nodes(_ nodes: [MerkleNode]) async throws -> [MerkleNode: MerkleHash] {
        let (cached, missing) = cachedNodes(nodes)
        guard !missing.isEmpty else { return cached }
        // By key, when few: the nodes below the upper levels (before those are filled, many).
        let read =
            missing.count <= 16
            ? try await store.readByKey { try await $0.log.nodes(missing) } : try await store.read { try await $0.log.nodes(missing) }
        return cached.merging(read) { $1 }
    }

    /// Of `nodes`, those the upper levels hold, with their hashes, and the others.
    private func cachedNodes(_ nodes: [MerkleNode]) -> (found: [MerkleNode: MerkleHash], missing: [MerkleNode]) {
        var found: [MerkleNode: MerkleHash] = [:]
        let missing = upper.withLock { upper in
            nodes.filter { node in
                guard let hash = upper.hash(of: node) else { return true }
                found[node] = hash
                return false
            }
        }
        return (found, missing)
    }

    /// The stored tree's upper levels, kept in memory.
    private let upper = Mutex(UpperLevels())

    private static func lookup(_ hashes: [MerkleNode: MerkleHash], _ node: MerkleNode) throws -> MerkleHash {
        guard let hash = hashes[node] else { throw LogFailure.missingNode(node) }
        return hash
    }
}

/// The stored log is not what it should be: an operator must look.
enum LogFailure: Error, CustomStringConvertible {
    case missingNode(MerkleNode)
    case entryTooLong(UInt64)

    var description: String {
        switch self {
        case .missingNode(let node): "the log's stored tree lacks node \(node)"
        case .entryTooLong(let index): "log entry \(index) is longer than an entry bundle can hold (65535 bytes)"
        }
    }
}
