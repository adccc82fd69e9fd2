import Foundation
import Logging
import VouchCore
import VouchKit
import VouchStore

/// The witnesses' side: the checkpoint waiting for cosignatures, and taking their cosignatures.
extension TransparencyLog {
    /// Takes witnesses' cosignatures of the pending checkpoint: `text` is the checkpoint note with
    /// their signature lines. Publishes the checkpoint once `quorum` configured witnesses have cosigned.
    func addCosignature(_ text: String) async throws -> (size: UInt64, cosignatures: Int, published: Bool) {
        guard witnessed else {
            throw ServiceError.notFound("this log is not configured with witnesses; its checkpoints are published without cosignatures")
        }
        let note: SignedNote
        do {
            note = try SignedNote(parsing: text)
        } catch {
            throw ServiceError.invalidRequest("the body is not a signed note: \(error.reason)")
        }
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint(parsing: note.text)
        } catch {
            throw ServiceError.invalidRequest("the note is not a checkpoint: \(error.reason)")
        }
        // Only lines that verify, of witnesses this log is configured with, are kept.
        var lines: [String: String] = [:]
        for witness in configuration.witnesses {
            guard let (signature, _) = witness.cosignature(in: note) else { continue }
            lines[witness.label] = signature.line
        }
        guard !lines.isEmpty else {
            throw ServiceError.forbidden("the note carries no valid cosignature by a witness this log is configured with")
        }
        let stamp = Int(clock().timeIntervalSince1970)
        let quorum = configuration.quorum
        let configured = Set(configuration.witnesses.map(\.label))
        let verifiedLines = lines
        let result: (published: Published?, count: Int) = try await store.transaction { session in
            try await session.log.lock()
            guard let pending = try await session.log.pendingCheckpoint(), pending.size == checkpoint.size else {
                if let latest = try await session.log.latestCheckpoint(), latest.size >= checkpoint.size {
                    throw ServiceError.conflict(
                        "checkpoint \(checkpoint.size) is no longer pending: the log has published size \(latest.size); fetch GET /v1/log/pending again")
                }
                throw ServiceError.conflict("no checkpoint of size \(checkpoint.size) awaits cosignatures; fetch GET /v1/log/pending again")
            }
            let pendingNote = try SignedNote(parsing: pending.note)
            guard pendingNote.text == note.text else {
                throw ServiceError.conflict("the cosigned checkpoint differs from the pending checkpoint of size \(pending.size)")
            }
            var stored: [String: String] = [:]
            for (witness, line) in verifiedLines {
                stored = try await session.log.addCosignature(size: pending.size, witness: witness, line: line, at: stamp)
            }
            // Witnesses removed from the configuration no longer count.
            stored = stored.filter { configured.contains($0.key) }
            guard stored.count >= quorum else { return (nil, stored.count) }
            // The pending note already carries the log's signature; the witnesses' lines follow it.
            let cosigned = pending.note + stored.keys.sorted().map { stored[$0]! }.joined()
            try await session.log.insertCheckpoint(size: pending.size, root: checkpoint.rootHash, note: cosigned, at: stamp)
            try await session.log.clearPending(through: pending.size)
            return (Published(size: pending.size, root: checkpoint.rootHash, note: cosigned), stored.count)
        }
        if let published = result.published {
            publish(published)
            logger.info("published a witnessed checkpoint", metadata: ["log.size": "\(published.size)", "log.cosignatures": "\(result.count)"])
        }
        return (checkpoint.size, result.count, result.published != nil)
    }

    /// The checkpoint signed and waiting for cosignatures, as a signed note.
    func pendingNote() async throws -> String? {
        try await store.read { try await $0.log.pendingCheckpoint()?.note }
    }
}
