import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VouchKit
import Yams

/// Every route the server has is described in openapi.yaml (the repository's copy is the one served).
@Suite("OpenAPI")
struct OpenAPITests {
    @Test func everyRouteIsInTheServedDocumentAndAnswersNon404() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin, routes in
                let served = try await client.call(.get, "/openapi.yaml")
                #expect(served.status == 200)
                let document = try #require(try Yams.load(yaml: served.text) as? [String: Any], "openapi.yaml is not a YAML mapping")
                #expect(document["openapi"] as? String == "3.1.0")
                let paths = try #require(document["paths"] as? [String: Any], "openapi.yaml has no paths")
                // The router's own list: a route added without documenting it fails here. The
                // console's pages are HTML for people, not the API (ConsoleTests checks them).
                let pairs = routes.filter { !$0.split(separator: " ")[1].hasPrefix("/console") }.map { route in
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
                    let operations = paths[path] as? [String: Any]
                    #expect(operations != nil, "openapi.yaml lacks \(path)")
                    #expect(operations?[method] != nil, "openapi.yaml lacks \(method) \(path)")
                    // The route exists: it answers, and a refusal is a problem that says why, never
                    // the router's "no such resource".
                    let concrete = path.replacingOccurrences(of: "{id}", with: "x").replacingOccurrences(of: "{action}", with: "revoke")
                        .replacingOccurrences(of: "{request}", with: "MA==").replacingOccurrences(of: "{tile}", with: "0/000")
                        .replacingOccurrences(of: "{sha256}", with: String(repeating: "0", count: 64)).replacingOccurrences(of: "{generation}", with: "1")
                        // A stream's answer never ends: asked with a bad start, it answers a problem.
                        + (path.hasSuffix("/stream") ? "?after=x" : "")
                    let result = try await client.call(HTTPRequest.Method(method.uppercased())!, concrete, apiKey: admin)
                    #expect(result.status < 500, "\(method) \(path) answered \(result.status): \(result.text)")
                    if result.status >= 400 {
                        #expect(result.headers[.contentType] == "application/problem+json", "\(method) \(path): \(result.text)")
                        let detail = result.json["detail"]?.stringValue ?? ""
                        #expect(!detail.isEmpty && !detail.hasPrefix("no such resource"), "\(method) \(path) is not routed: \(result.text)")
                    }
                }
                // Every path in the document is one of these routes.
                #expect(Set(paths.keys) == Set(pairs.map(\.1)))
            }
        }
    }
}
