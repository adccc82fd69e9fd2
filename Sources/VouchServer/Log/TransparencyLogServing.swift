import VouchCore
import VouchKit

/// What the log API asks of the transparency log.
protocol TransparencyLogServing: Sendable {
    var published: TransparencyLog.Published? { get }
    var storedSize: UInt64 { get }
    var verifierKey: String { get }
    var quorum: Int { get }
    func entries(_ range: Range<UInt64>) async throws -> [(index: UInt64, entry: [UInt8])]
    func inclusion(index: UInt64, size: UInt64) async throws -> (entry: [UInt8], proof: InclusionProof)?
    func consistencyProof(from oldSize: UInt64, to newSize: UInt64) async throws -> ConsistencyProof
    func tile(_ tile: LogTile, size: UInt64) async throws -> [UInt8]?
    func pendingNote() async throws -> String?
    func addCosignature(_ text: String) async throws -> (size: UInt64, cosignatures: Int, published: Bool)
}

extension TransparencyLog: TransparencyLogServing {
    var verifierKey: String { signer.verifierKey }
    var quorum: Int { configuration.quorum }
}
