import VouchKit

/// Where an auditor reads a log: its checkpoint, consistency proofs, and C2SP tiles.
public protocol LogAuditSource: Sendable {
    /// The latest signed checkpoint note.
    func checkpoint() async throws -> String
    /// The consistency proof between two tree sizes.
    func consistencyProof(from oldSize: UInt64, to newSize: UInt64) async throws -> [MerkleHash]
    /// A tile's bytes, nil when the log does not serve it.
    func tile(_ tile: LogTile) async throws -> [UInt8]?
    /// The indexes of the entries the log holds in `range`, to name those missing when a bundle is.
    func entryIndexes(_ range: Range<UInt64>) async throws -> [UInt64]
}

/// What an auditor remembers between runs: the last checkpoint it verified and the right edge of
/// that tree, so that the next run re-hashes only the new entries.
public struct LogAuditState: Codable, Hashable, Sendable {
    public var origin: String
    public var size: UInt64
    /// Base64 root hash.
    public var root: String
    /// Base64 hashes of the tree's frontier (`MerkleFrontier.hashes`).
    public var frontier: [String]

    public init(origin: String, frontier: MerkleFrontier) {
        self.origin = origin
        self.size = frontier.size
        self.root = frontier.root.base64EncodedString
        self.frontier = frontier.hashes.map(\.base64EncodedString)
    }

    func loadFrontier() throws(VouchKitError) -> MerkleFrontier {
        try MerkleFrontier(size: size, hashes: try frontier.map { text throws(VouchKitError) in try MerkleHash(base64Encoded: text) })
    }
}

/// A way the log failed its audit; `index` names the entry when one is to blame.
public struct LogAuditFailure: Error, Hashable, Sendable, CustomStringConvertible {
    public let index: UInt64?
    public let reason: String

    public init(index: UInt64? = nil, _ reason: String) {
        self.index = index
        self.reason = reason
    }

    public var description: String { index.map { "entry \($0): \(reason)" } ?? reason }
}

/// Audits a transparency log: checks the checkpoint's signature, proves it consistent with the
/// last checkpoint this auditor verified, re-hashes every entry after it, compares each with the
/// log's stored leaf hash (so that a changed entry is named by its index), and checks that the
/// entries produce the signed root.
public struct LogAuditor: Sendable {
    public let verifiers: [NoteVerifier]

    public struct Report: Sendable {
        public var checkpoint: Checkpoint
        public var state: LogAuditState
        /// Entries re-hashed by this run.
        public var entriesVerified: UInt64
    }

    public init(verifiers: [NoteVerifier]) {
        self.verifiers = verifiers
    }

    /// Audits `source`. With `state`, proves consistency with it and re-hashes the entries after
    /// it (all of them, checking that they still produce its root, when `full`).
    public func audit(_ source: some LogAuditSource, state: LogAuditState?, full: Bool = false) async throws -> Result<Report, LogAuditFailure> {
        let note = try await source.checkpoint()
        let checkpoint: Checkpoint
        do {
            switch try Checkpoint.verify(signedNote: note, verifiers: verifiers) {
            case .success(let verified): checkpoint = verified
            case .failure(let rejection): return .failure(LogAuditFailure("the checkpoint does not verify: \(rejection.reasons.joined(separator: "; "))"))
            }
        } catch {
            return .failure(LogAuditFailure("the checkpoint is malformed: \(error.reason)"))
        }
        var start = MerkleFrontier()
        var previous: (size: UInt64, root: MerkleHash)?
        if let state {
            guard state.origin == checkpoint.origin else {
                return .failure(LogAuditFailure("the checkpoint is of log \(checkpoint.origin), but the state is of \(state.origin)"))
            }
            let root = try MerkleHash(base64Encoded: state.root)
            guard checkpoint.size >= state.size else {
                return .failure(LogAuditFailure("the log shrank: its checkpoint has \(checkpoint.size) entries, but it had \(state.size) when last verified"))
            }
            if checkpoint.size == state.size, checkpoint.rootHash != root {
                return .failure(LogAuditFailure(
                    "the log forked: its checkpoint of size \(checkpoint.size) has root \(checkpoint.rootHash), but the one verified before had \(root)"))
            }
            if state.size > 0, checkpoint.size > state.size {
                let proof = ConsistencyProof(oldSize: state.size, newSize: checkpoint.size, hashes: try await source.consistencyProof(from: state.size, to: checkpoint.size))
                let verdict: MerkleProofVerdict
                do {
                    verdict = try proof.verify(oldRoot: root, newRoot: checkpoint.rootHash)
                } catch {
                    verdict = .invalid(reason: error.reason)
                }
                if case .invalid(let reason) = verdict {
                    return .failure(LogAuditFailure(
                        "the checkpoint of size \(checkpoint.size) is not consistent with the one of size \(state.size) verified before (\(reason)): the log forked or rewrote its history"))
                }
            }
            previous = (state.size, root)
            if !full { start = try state.loadFrontier() }
        }
        var frontier = start
        while frontier.size < checkpoint.size {
            let tileIndex = frontier.size / UInt64(LogTile.fullWidth)
            let first = tileIndex * UInt64(LogTile.fullWidth)
            let width = Int(min(first + UInt64(LogTile.fullWidth), checkpoint.size) - first)
            guard let bundle = try await source.tile(LogTile(level: nil, index: tileIndex, width: width)),
                let entries = Self.entries(inBundle: bundle), entries.count == width
            else {
                let present = Set(try await source.entryIndexes(first..<first + UInt64(width)))
                let missing = (first..<first + UInt64(width)).first { !present.contains($0) }
                return .failure(LogAuditFailure(index: missing, missing == nil
                    ? "the entry bundle of entries \(first)..<\(first + UInt64(width)) is malformed"
                    : "the entry is missing from the log (deleted after it was logged)"))
            }
            guard let tile = try await source.tile(LogTile(level: 0, index: tileIndex, width: width)), tile.count == width * MerkleHash.byteCount else {
                return .failure(LogAuditFailure(index: first, "the log does not serve the leaf hashes of entries \(first)..<\(first + UInt64(width))"))
            }
            for index in frontier.size..<first + UInt64(width) {
                let offset = Int(index - first)
                let leaf = MerkleHash.leafHash(entries[offset])
                let start = offset * MerkleHash.byteCount
                let stored = try MerkleHash(bytes: tile[start..<start + MerkleHash.byteCount])
                guard leaf == stored else {
                    return .failure(LogAuditFailure(index: index,
                        "the entry hashes to \(leaf), but the log's tree holds \(stored) for it: the entry was changed after it was logged"))
                }
                frontier.append(leafHash: leaf)
                if let previous, frontier.size == previous.size, frontier.root != previous.root {
                    return .failure(LogAuditFailure("the entries up to \(previous.size) hash to \(frontier.root), not the root \(previous.root) verified before"))
                }
            }
        }
        guard frontier.root == checkpoint.rootHash else {
            return .failure(LogAuditFailure(
                "the log's \(checkpoint.size) entries hash to root \(frontier.root), not the checkpoint's \(checkpoint.rootHash): the log's tree was altered"))
        }
        return .success(Report(
            checkpoint: checkpoint, state: LogAuditState(origin: checkpoint.origin, frontier: frontier), entriesVerified: frontier.size - start.size))
    }

    /// The entries of a C2SP entry bundle (each after its big-endian 16-bit length); nil when malformed.
    public static func entries(inBundle bundle: [UInt8]) -> [ArraySlice<UInt8>]? {
        var entries: [ArraySlice<UInt8>] = []
        var offset = 0
        while offset < bundle.count {
            guard offset + 2 <= bundle.count else { return nil }
            let length = Int(bundle[offset]) << 8 | Int(bundle[offset + 1])
            guard offset + 2 + length <= bundle.count else { return nil }
            entries.append(bundle[offset + 2..<offset + 2 + length])
            offset += 2 + length
        }
        return entries
    }
}
