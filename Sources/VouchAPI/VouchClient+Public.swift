import Foundation

// What anyone may read: health, the PKI, status lists, the trust bundle.
extension VouchClient {
    /// `GET /healthz`.
    public func health() async throws -> String {
        try await send("GET", "/healthz").text
    }

    /// `GET /metrics`: the Prometheus exposition (a read-only API key or better).
    public func metrics() async throws -> String {
        try await send("GET", "/metrics").text
    }

    /// One unlabelled gauge or counter of `/metrics`, such as `vouch_responses_pending`.
    public func metric(_ name: String) async throws -> Double? {
        for line in try await metrics().split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == name { return Double(parts[1]) }
        }
        return nil
    }

    /// A public document as text: `/v1/pki/ca.pem`, `/v1/pki/chain.pem`, `/v1/trust-bundle`, …
    public func text(_ path: String) async throws -> String {
        try await send("GET", path).text
    }

    /// A public document as bytes: `/v1/pki/crl`, `/v1/pki/ca.crt`, …
    public func bytes(_ path: String) async throws -> [UInt8] {
        try await send("GET", path).body
    }
}
