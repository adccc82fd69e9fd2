import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Testing
import VouchKit
import VouchServer

/// The public URL is the authority's identity: recorded at the first start, a later start with
/// another is refused, and only `IdentityPin.migrate` (`vouch admin migrate-url`) moves it.
@Suite("Identity pinned to the public URL")
struct IdentityPinTests {
    func refusal(_ dir: String, publicURL: String?) async -> ServerStartupError? {
        await #expect(throws: ServerStartupError.self) {
            try await withServer(dataDirectory: dir, publicURL: publicURL) { _, _ in }
        }
    }

    func events(_ client: any TestClientProtocol, _ admin: String, kind: String) async throws -> [JSONValue] {
        let page = try await client.call(.get, "/v1/events?after=0&limit=1000", apiKey: admin)
        #expect(page.status == 200)
        return (page.json["events"]?.arrayValue ?? []).filter { $0["kind"]?.stringValue == kind }
    }

    @Test func anotherPublicURLIsRefusedUntilTheAuthorityIsMigrated() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, publicURL: "https://a.test") { client, admin in
                let pinned = try await events(client, admin, kind: "authority.url-pinned")
                #expect(pinned.count == 1)
                #expect(pinned.first?["data"]?["url"]?.stringValue == "https://a.test")
                #expect(pinned.first?["data"]?["source"]?.stringValue == "configured")
            }
            // The same URL, written with a trailing slash, is the same identity.
            try await withServer(dataDirectory: dir, publicURL: "https://a.test/") { _, _ in }

            let moved = await refusal(dir, publicURL: "https://b.test")
            let text = moved?.description ?? ""
            #expect(text.contains("this authority's public URL is https://a.test"), "\(text)")
            #expect(text.contains("this start's is https://b.test"), "\(text)")
            #expect(text.contains("vouch admin migrate-url --data-dir \(dir) --to https://b.test"), "\(text)")
            // A port change is a change of identity too.
            let port = await refusal(dir, publicURL: "https://a.test:8443")
            #expect(port?.description.contains("this start's is https://a.test:8443") == true, "\(String(describing: port))")

            let logger = Logger(label: "test")
            let from = try await IdentityPin.migrate(dataDirectory: dir, databaseURL: nil, to: "https://b.test/", logger: logger)
            #expect(from == "https://a.test")
            // Migrating to where it is already is refused.
            await #expect(throws: ServerStartupError.self) {
                try await IdentityPin.migrate(dataDirectory: dir, databaseURL: nil, to: "https://b.test", logger: logger)
            }

            try await withServer(dataDirectory: dir, publicURL: "https://b.test") { client, admin in
                let did = try await client.call(.get, "/.well-known/did.json")
                #expect(did.status == 200)
                #expect(did.json["id"]?.stringValue == "did:web:b.test")
                let migrated = try await events(client, admin, kind: "authority.url-migrated")
                #expect(migrated.count == 1)
                #expect(migrated.first?["data"]?["from"]?.stringValue == "https://a.test")
                #expect(migrated.first?["data"]?["to"]?.stringValue == "https://b.test")
                #expect(try await events(client, admin, kind: "authority.url-pinned").count == 1)
            }
            // The old URL is refused now.
            let back = await refusal(dir, publicURL: "https://a.test")
            #expect(back?.description.contains("this authority's public URL is https://b.test") == true, "\(String(describing: back))")
        }
    }

    @Test func onPortZeroWithNoPublicURLTheIdentityFollowsThePortButAFixedOneIsAChange() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, publicURL: nil) { client, admin in
                let pinned = try await events(client, admin, kind: "authority.url-pinned")
                #expect(pinned.first?["data"]?["source"]?.stringValue == "port-0")
            }
            // Another kernel-chosen port: it starts, naming the new port.
            try await withServer(dataDirectory: dir, publicURL: nil) { client, _ in
                let did = try await client.call(.get, "/.well-known/did.json")
                #expect(did.json["id"]?.stringValue?.hasPrefix("did:web:127.0.0.1%3A") == true)
            }
            let fixed = await refusal(dir, publicURL: "https://c.test")
            #expect(fixed?.description.contains("it was first started on port 0") == true, "\(String(describing: fixed))")
        }
    }

    @Test func aPublicURLMustBeHTTPWithAHostAndNothingElse() async throws {
        for bad in ["ftp://vouch.test", "vouch.test", "https://", "https://vouch.test/?a=1", "https://user@vouch.test", "https://vouch.test/#x"] {
            #expect(throws: ServerStartupError.self, "\(bad)") { try IdentityPin.normalized(bad) }
        }
        #expect(try IdentityPin.normalized("https://vouch.test:8443/ca//") == "https://vouch.test:8443/ca")
        try await withDataDirectory { dir in
            let refused = await refusal(dir, publicURL: "ftp://vouch.test")
            #expect(refused?.description.contains("is not an http or https URL with a host") == true, "\(String(describing: refused))")
            #expect(!FileManager.default.fileExists(atPath: dir), "the refused start left \(dir) behind")
        }
    }
}
