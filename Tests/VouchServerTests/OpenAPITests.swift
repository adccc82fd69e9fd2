import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VouchKit

/// Every route the server has is described in openapi.yaml (the repository's copy is the one served).
@Suite("OpenAPI")
struct OpenAPITests {
    @Test func everyRouteIsInTheServedDocumentAndAnswersNon404() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin, routes in
                let document = try await client.call(.get, "/openapi.yaml").text
                #expect(document.hasPrefix("openapi: 3.1.0"))
                // The router's own list: a route added without documenting it fails here.
                let pairs = routes.map { route in
                    let parts = route.split(separator: " ", maxSplits: 1)
                    // The OCSP GET route is a recursive wildcard (base64 holds "/"); OpenAPI names it {request}.
                    // So is the C2SP tile route, named {tile}.
                    return (
                        parts[0].lowercased(),
                        String(parts[1]).replacingOccurrences(of: "/v1/log/tile/**", with: "/v1/log/tile/{tile}").replacingOccurrences(of: "/**", with: "/{request}")
                    )
                }
                #expect(pairs.count >= 35)
                for (method, path) in pairs {
                    let block = document.components(separatedBy: "\n  \(path):\n")
                    #expect(block.count == 2, "openapi.yaml lacks \(path)")
                    if block.count == 2 {
                        let section = block[1].components(separatedBy: "\n  /")[0]
                        #expect(section.contains("    \(method):"), "openapi.yaml lacks \(method) \(path)")
                    }
                    // The route exists: whatever it answers, it is not "no such resource".
                    let concrete = path.replacingOccurrences(of: "{id}", with: "x").replacingOccurrences(of: "{action}", with: "revoke")
                        .replacingOccurrences(of: "{request}", with: "MA==").replacingOccurrences(of: "{tile}", with: "0/000")
                    let result = try await client.call(HTTPRequest.Method(method.uppercased())!, concrete, apiKey: admin)
                    #expect(result.json["detail"]?.stringValue?.hasPrefix("no such resource") != true, "\(method) \(path) is not routed")
                    #expect(result.status < 500, "\(method) \(path) answered \(result.status): \(result.text)")
                }
                // Every path in the document is one of these routes.
                let documented = document.split(separator: "\n").filter { $0.hasPrefix("  /") }.map { $0.dropFirst(2).dropLast() }
                #expect(Set(documented.map(String.init)) == Set(pairs.map(\.1)))
            }
        }
    }
}
