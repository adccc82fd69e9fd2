import VouchCore
import VouchKit

/// A Vouch server's transparency log as an auditor reads it (`LogAuditor`): the checkpoint,
/// consistency proofs, C2SP tiles and the entries' indexes, through `client`. A refusal other than
/// a tile the log does not hold yet throws ``VouchClientError``.
public struct VouchLogSource: LogAuditSource {
    public let client: VouchClient

    public init(client: VouchClient) {
        self.client = client
    }

    public func checkpoint() async throws -> String {
        try await client.checkpoint()
    }

    public func consistencyProof(from oldSize: UInt64, to newSize: UInt64) async throws -> [MerkleHash] {
        try await client.consistencyProof(from: oldSize, to: newSize).proof.map { try MerkleHash(base64Encoded: $0) }
    }

    public func tile(_ tile: LogTile) async throws -> [UInt8]? {
        try await client.tile(tile.path)
    }

    public func entryIndexes(_ range: Range<UInt64>) async throws -> [UInt64] {
        try await client.logEntries(range).entries.map(\.index)
    }
}
