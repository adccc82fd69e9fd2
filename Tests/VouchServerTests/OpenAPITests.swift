import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VouchKit

/// Every route the server has is described in openapi.yaml (the repository's copy is the one served).
@Suite("OpenAPI")
struct OpenAPITests {
    static let routes: [(String, String)] = [
        ("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"), ("get", "/openapi.yaml"), ("get", "/.well-known/did.json"),
        ("get", "/v1/pki/ca.pem"), ("get", "/v1/pki/intermediate.pem"), ("get", "/v1/pki/chain.pem"), ("get", "/v1/pki/crl"),
        ("get", "/v1/pki/crl.pem"), ("post", "/v1/pki/ocsp"), ("get", "/v1/pki/ocsp/{request}"), ("get", "/v1/status-lists/{id}"),
        ("get", "/v1/trust-bundle"), ("post", "/v1/enrollments/nonce"), ("post", "/v1/enrollments"), ("get", "/v1/enrollments/{id}"),
        ("get", "/v1/admin/api-keys"), ("post", "/v1/admin/api-keys"), ("delete", "/v1/admin/api-keys/{id}"),
        ("get", "/v1/admin/groups"), ("post", "/v1/admin/groups"), ("get", "/v1/admin/groups/{id}"), ("put", "/v1/admin/groups/{id}"),
        ("post", "/v1/admin/groups/{id}/disable"), ("post", "/v1/admin/groups/{id}/enable"), ("get", "/v1/admin/devices"),
        ("get", "/v1/admin/devices/{id}"), ("post", "/v1/admin/devices/{id}/{action}"), ("get", "/v1/events"),
    ]

    @Test func everyRouteIsInTheServedDocumentAndAnswersNon404() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let document = try await client.call(.get, "/openapi.yaml").text
                #expect(document.hasPrefix("openapi: 3.1.0"))
                for (method, path) in Self.routes {
                    let block = document.components(separatedBy: "\n  \(path):\n")
                    #expect(block.count == 2, "openapi.yaml lacks \(path)")
                    if block.count == 2 {
                        let section = block[1].components(separatedBy: "\n  /")[0]
                        #expect(section.contains("    \(method):"), "openapi.yaml lacks \(method) \(path)")
                    }
                    // The route exists: whatever it answers, it is not "no such resource".
                    let concrete = path.replacingOccurrences(of: "{id}", with: "x").replacingOccurrences(of: "{action}", with: "revoke")
                        .replacingOccurrences(of: "{request}", with: "MA==")
                    let result = try await client.call(HTTPRequest.Method(method.uppercased())!, concrete, apiKey: admin)
                    #expect(result.json["detail"]?.stringValue?.hasPrefix("no such resource") != true, "\(method) \(path) is not routed")
                    #expect(result.status < 500, "\(method) \(path) answered \(result.status): \(result.text)")
                }
                // Every path in the document is one of these routes.
                let documented = document.split(separator: "\n").filter { $0.hasPrefix("  /") }.map { $0.dropFirst(2).dropLast() }
                #expect(Set(documented.map(String.init)) == Set(Self.routes.map(\.1)))
            }
        }
    }
}
