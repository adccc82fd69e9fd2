import Foundation
import Hummingbird
import VouchAPI
import VouchCore
import VouchKit

/// The transparency log, for anyone: the checkpoint, the verifier key, entries, proofs, C2SP tiles,
/// and the witnesses' side (the checkpoint waiting for cosignatures, and where to send them).
struct LogController<Log: TransparencyLogServing> {
    let log: Log
    let limiter: RateLimiter

    /// The most entries one request returns.
    static var entriesLimit: UInt64 { 1000 }

    var endpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
        routes.get("checkpoint", use: checkpoint)
        routes.get("key", use: key)
        routes.get("entries", use: entries)
        routes.get("proof/inclusion", use: inclusionProof)
        routes.get("proof/consistency", use: consistencyProof)
        routes.get("tile/**", use: tile)
        routes.get("pending", use: pending)
        routes.post("cosignatures", use: cosign)
        return routes
    }

    @Sendable func checkpoint(_ request: Request, context: VouchRequestContext) throws -> Response {
        guard let published = log.published else {
            throw ServiceError.notFound("the log has published no checkpoint yet; the first comes within a checkpoint interval of the server's start")
        }
        // C2SP tlog-tiles: a checkpoint may be cached for a few seconds at most.
        return Responses.bytes(Array(published.note.utf8), contentType: "text/plain; charset=utf-8", cache: "max-age=1")
    }

    @Sendable func key(_ request: Request, context: VouchRequestContext) -> Response {
        Responses.text(log.verifierKey + "\n", contentType: "text/plain; charset=utf-8")
    }

    @Sendable func entries(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let size = log.storedSize
        let start = try Self.number(query["start"].map(String.init), name: "start")
        guard start < size else { throw ServiceError.notFound("start (\(start)) is beyond the log's \(size) entries") }
        let end = try query["end"].map { try Self.number(String($0), name: "end") } ?? min(size, start + Self.entriesLimit)
        guard start < end else { throw ServiceError.invalidRequest("start (\(start)) must be below end (\(end))") }
        guard end <= size else { throw ServiceError.notFound("end (\(end)) is beyond the log's \(size) entries") }
        guard end - start <= Self.entriesLimit else {
            throw ServiceError.invalidRequest("at most \(Self.entriesLimit) entries per request; ask for start..<start+\(Self.entriesLimit) and continue from there")
        }
        let entries = try await log.entries(start..<end)
        return try Responses.json(LogEntries(entries: entries.map { .init(index: $0.index, entry: String(decoding: $0.entry, as: UTF8.self)) }))
    }

    @Sendable func inclusionProof(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let published = log.published
        let index = try Self.number(query["index"].map(String.init), name: "index")
        let size = try query["size"].map { try Self.number(String($0), name: "size") } ?? published?.size ?? 0
        guard size <= log.storedSize else { throw ServiceError.notFound("size (\(size)) is beyond the log's \(log.storedSize) entries") }
        guard index < size else {
            throw ServiceError.notFound("entry \(index) is not in the tree of size \(size); a new checkpoint comes within a checkpoint interval")
        }
        guard let (entry, proof) = try await log.inclusion(index: index, size: size) else {
            throw ServiceError.notFound("entry \(index) is missing from the log's event table")
        }
        // Written with the canonical serializer: a proof is on the hot path of every verifier.
        var answer: [String: JSONValue] = [
            "index": .number(Double(index)), "treeSize": .number(Double(size)),
            "leafHash": .string(MerkleHash.leafHash(entry).base64EncodedString), "entry": .string(String(decoding: entry, as: UTF8.self)),
            "inclusionProof": .array(proof.hashes.map { .string($0.base64EncodedString) }),
        ]
        if published?.size == size, let note = published?.note { answer["checkpoint"] = .string(note) }
        return Responses.json(bytes: JSONValue.object(answer).canonicalJSON)
    }

    @Sendable func consistencyProof(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let from = try Self.number(query["from"].map(String.init), name: "from")
        let to = try query["to"].map { try Self.number(String($0), name: "to") } ?? log.published?.size ?? 0
        guard from >= 1, from <= to else { throw ServiceError.invalidRequest("a consistency proof needs 1 ≤ from ≤ to; got from=\(from), to=\(to)") }
        guard to <= log.storedSize else { throw ServiceError.notFound("to (\(to)) is beyond the log's \(log.storedSize) entries") }
        let proof = try await log.consistencyProof(from: from, to: to)
        return Responses.json(bytes: JSONValue.object([
            "from": .number(Double(from)), "to": .number(Double(to)), "proof": .array(proof.hashes.map { .string($0.base64EncodedString) }),
        ]).canonicalJSON)
    }

    @Sendable func tile(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let path = "tile/" + context.parameters.getCatchAll().joined(separator: "/")
        guard let tile = LogTile(path: path) else {
            throw ServiceError.notFound("\(path) is not a C2SP tlog-tiles path (tile/<L>/<N> or tile/entries/<N>, with .p/<W> for a partial tile)")
        }
        guard let bytes = try await log.tile(tile, size: log.storedSize) else {
            throw ServiceError.notFound("the log does not hold \(path) yet")
        }
        // A full tile never changes; a partial one is replaced by a wider one as the log grows.
        let cache = tile.width == LogTile.fullWidth ? "public, max-age=31536000, immutable" : "no-cache"
        return Responses.bytes(bytes, contentType: "application/octet-stream", cache: cache)
    }

    @Sendable func pending(_ request: Request, context: VouchRequestContext) async throws -> Response {
        guard let note = try await log.pendingNote() else {
            throw ServiceError.notFound("no checkpoint awaits cosignatures")
        }
        return Responses.text(note, contentType: "text/plain; charset=utf-8")
    }

    @Sendable func cosign(_ request: Request, context: VouchRequestContext) async throws -> Response {
        try limiter.take(context.sourceKey)
        let body = try await request.bodyBytes(limit: 64 * 1024, tooLarge: "a cosigned checkpoint is at most 64 KiB")
        guard let text = String(validating: body.readableBytesView, as: UTF8.self) else {
            throw ServiceError.invalidRequest("send the cosigned checkpoint note as UTF-8 text")
        }
        let result = try await log.addCosignature(text)
        return try Responses.json(CosignatureReceipt(size: result.size, cosignatures: result.cosignatures, quorum: log.quorum, published: result.published))
    }

    /// A required non-negative decimal query parameter.
    private static func number(_ text: String?, name: String) throws -> UInt64 {
        guard let text else { throw ServiceError.invalidRequest("the query parameter \(name) is required") }
        guard let value = UInt64(text), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw ServiceError.invalidRequest("the query parameter \(name) must be a non-negative integer, not \"\(text.prefix(32))\"")
        }
        return value
    }
}
