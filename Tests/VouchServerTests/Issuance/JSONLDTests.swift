import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchKit
import Crypto

/// pyld (PyPI; CI installs it) expands the credentials the authority issues with the VC 2.0 context
/// (the W3C's, from Vectors/vc-context) and Vouch's own context (served by the server, pinned by
/// digest in the credential): no term is dropped, every type is an absolute IRI (issue 14).
@Suite("pyld reads the credentials' JSON-LD", .enabled(if: spiffePython != nil || ProcessInfo.processInfo.environment["CI"] != nil, "needs pyld (CI installs it)"))
struct JSONLDTests {
    static let expander = """
        import json, sys
        from pyld import jsonld
        v2, ours, credential, ours_url = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), json.load(open(sys.argv[3])), sys.argv[4]
        documents = {"https://www.w3.org/ns/credentials/v2": v2, ours_url: ours}
        def loader(url, options=None):
            if url not in documents:
                raise Exception("no context " + url)
            return {"contextUrl": None, "documentUrl": url, "document": documents[url]}
        jsonld.set_document_loader(loader)
        expanded = jsonld.expand(credential)
        again = jsonld.compact(expanded, {"@context": credential["@context"]})
        def keys(value, path=""):
            if isinstance(value, dict):
                found = set()
                for key, member in value.items():
                    if key == "@context" or path.endswith("capabilities"):
                        continue
                    found.add(path + "/" + key)
                    found |= keys(member, path + "/" + key)
                return found
            if isinstance(value, list):
                return set().union(*[keys(item, path) for item in value]) if value else set()
            return set()
        dropped = sorted(keys(credential) - keys(again))
        types = expanded[0].get("@type", [])
        print(json.dumps({"dropped": dropped, "types": types, "subject": sorted(expanded[0]["https://www.w3.org/2018/credentials#credentialSubject"][0].keys())}))
        """

    @Test func credentialsExpandWithoutDroppingATerm() async throws {
        let python = try #require(spiffePython, "the venv's Python is not on PATH")
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(plantPolicyYAML).status == 201)
                let (_, answer) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"])
                let served = try await client.call(.get, "/v1/contexts/vouch-v1.jsonld")
                #expect(served.status == 200)
                #expect(served.headers[.contentType] == "application/ld+json")
                let contextURL = "https://vouch.test/v1/contexts/vouch-v1.jsonld"
                let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Vectors/vc-context/credentials-v2.jsonld").path
                try served.body.write(to: URL(fileURLWithPath: dir + "/vouch-v1.jsonld"))
                try Data(Self.expander.utf8).write(to: URL(fileURLWithPath: dir + "/expand.py"))
                for token in try PolicyFleet.credentials(in: answer) {
                    let payload = try CompactJWS(parsing: token).payload
                    let credential = try JSONValue(parsing: payload)
                    // The context is pinned: the digest of the bytes served.
                    let pinned = credential["relatedResource"]?.arrayValue.first { $0["id"]?.stringValue == contextURL }
                    #expect(pinned?["digestSRI"]?.stringValue == "sha384-" + Data(SHA384.hash(data: served.body)).base64EncodedString())
                    #expect(credential["@context"]?.arrayValue.compactMap(\.stringValue) == ["https://www.w3.org/ns/credentials/v2", contextURL])
                    try payload.write(to: URL(fileURLWithPath: dir + "/credential.json"))
                    let (status, output) = try await run(python, [dir + "/expand.py", vectors, dir + "/vouch-v1.jsonld", dir + "/credential.json", contextURL])
                    #expect(status == 0, "\(output)")
                    let result = try JSONValue(parsing: Data(output.utf8))
                    #expect(result["dropped"]?.arrayValue == [], "\(output)")
                    let types = result["types"]?.arrayValue.compactMap(\.stringValue) ?? []
                    #expect(types.count == 2 && types.allSatisfy { $0.hasPrefix("https://") }, "\(types)")
                    #expect(result["subject"]?.arrayValue.contains { $0.stringValue == contextURL + "#deviceId" } == true, "\(output)")
                }
            }
        }
    }
}
