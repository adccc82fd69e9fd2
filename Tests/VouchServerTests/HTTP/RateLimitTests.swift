import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchKit

/// Every rate-limited route answers 429 with Retry-After once its source's bucket is empty; the
/// health, readiness and description routes never do.
@Suite("Rate limits on every limited route")
struct RateLimitTests {
    /// Enrollment, authentication and the witnesses' cosignatures share the authenticated limit.
    static let limited: [(HTTPRequest.Method, String)] = [
        (.post, "/v1/enrollments/nonce"), (.post, "/v1/enrollments"), (.get, "/v1/enrollments/dev_x"), (.post, "/v1/auth/challenge"),
        (.post, "/v1/auth/token"), (.post, "/v1/devices/self/renew"), (.post, "/v1/devices/self/rotate"), (.post, "/v1/log/cosignatures"),
    ]

    /// What anyone may read or have signed: ten times the authenticated limit.
    static let publicLimited: [(HTTPRequest.Method, String)] = [
        (.get, "/.well-known/did.json"), (.get, "/v1/pki/ca.pem"), (.get, "/v1/pki/intermediate.pem"), (.get, "/v1/pki/ca.crt"),
        (.get, "/v1/pki/intermediate.crt"), (.get, "/v1/pki/root.crl"), (.get, "/v1/pki/chain.pem"), (.get, "/v1/pki/crl"),
        (.get, "/v1/pki/crl.pem"), (.post, "/v1/pki/ocsp"), (.get, "/v1/pki/ocsp/MAA%3D"), (.get, "/v1/status-lists/revocation-0"),
        (.get, "/v1/contexts/vouch-v1.jsonld"), (.get, "/v1/trust-bundle"),
    ]

    @Test func everyLimitedRouteAnswers429WhenTheBucketIsEmpty() async throws {
        try await withDataDirectory { dir in
            // The server's clock stands still: no bucket refills while the test runs, however long it takes.
            let now = Date()
            try await withServer(dataDirectory: dir, rateLimitPerMinute: 1, clock: { now }) { client, _, _ in
                // The one request a minute allows, then nothing on any route of that limit.
                #expect(try await client.call(.post, "/v1/enrollments/nonce").status == 201)
                for (method, path) in Self.limited {
                    let refused = try await client.call(method, path, json: method == .get ? nil : [:])
                    Self.expectTooMany(refused, "\(method) \(path)")
                }
                // The public limit is ten a minute, and separate.
                for _ in 0..<10 {
                    #expect(try await client.call(.get, "/v1/pki/ca.pem").status == 200)
                }
                for (method, path) in Self.publicLimited {
                    let refused = try await client.call(method, path, headers: [.contentType: "application/ocsp-request"], body: method == .post ? [0x30, 0x00] : nil)
                    Self.expectTooMany(refused, "\(method) \(path)")
                }
                for path in ["/healthz", "/readyz", "/openapi.yaml"] {
                    #expect(try await client.call(.get, path).status == 200, "\(path) is never limited")
                }
            }
        }
    }

    static func expectTooMany(_ result: HTTPResult, _ route: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 429, "\(route): \(result.status) \(result.text)", sourceLocation: sourceLocation)
        #expect(result.json["detail"]?.stringValue?.contains("too many requests") == true, "\(route)", sourceLocation: sourceLocation)
        let wait = result.headers[.retryAfter].flatMap(Int.init)
        #expect(wait.map { (1...60).contains($0) } == true, "\(route): Retry-After \(String(describing: wait))", sourceLocation: sourceLocation)
    }
}
