import Foundation

// The transparency log, as auditors and witnesses read it.
extension VouchClient {
    /// `GET /v1/log/checkpoint`: the signed note.
    public func checkpoint() async throws -> String {
        try await send("GET", "/v1/log/checkpoint").text
    }

    /// `GET /v1/log/key`: the note verifier key.
    public func logKey() async throws -> String {
        try await send("GET", "/v1/log/key").text
    }

    /// `GET /v1/log/entries`: entries `range` (at most 1000).
    public func logEntries(_ range: Range<UInt64>) async throws -> LogEntries {
        try await call("GET", "/v1/log/entries?start=\(range.lowerBound)&end=\(range.upperBound)")
    }

    /// `GET /v1/log/proof/inclusion`.
    public func inclusionProof(index: UInt64, size: UInt64? = nil) async throws -> InclusionProofAnswer {
        try await call("GET", "/v1/log/proof/inclusion" + Self.query([("index", String(index)), ("size", size.map(String.init))]))
    }

    /// `GET /v1/log/proof/consistency`.
    public func consistencyProof(from: UInt64, to: UInt64) async throws -> ConsistencyProofAnswer {
        try await call("GET", "/v1/log/proof/consistency?from=\(from)&to=\(to)")
    }

    /// `GET /v1/log/tile/…`: a C2SP tlog-tiles tile at `path` (such as `tile/0/000`), or nil when the
    /// log does not hold it (yet).
    public func tile(_ path: String) async throws -> [UInt8]? {
        let response = try await exchange("GET", "/v1/log/" + path)
        if response.status == 404 { return nil }
        guard response.isSuccess else { throw VouchClientError.refused(response) }
        return response.body
    }

    /// `GET /v1/log/pending`: the checkpoint waiting for cosignatures, or nil when none is.
    public func pendingCheckpoint() async throws -> String? {
        let response = try await exchange("GET", "/v1/log/pending")
        if response.status == 404 { return nil }
        guard response.isSuccess else { throw VouchClientError.refused(response) }
        return response.text
    }

    /// `POST /v1/log/cosignatures`: a witness's cosigned note.
    public func cosign(_ note: String) async throws -> CosignatureReceipt {
        try await call("POST", "/v1/log/cosignatures", body: .text(note))
    }
}
