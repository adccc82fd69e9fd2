import Foundation

// What anyone may read: health, the PKI, status lists, the trust bundle.
extension VouchClient {
    /// `GET /healthz`.
    public func health() async throws -> String {
        try await send("GET", "/healthz").text
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
