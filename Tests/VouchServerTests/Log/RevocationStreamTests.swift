import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchCore
import VouchKit

@Suite("Revocation stream (Server-Sent Events)")
struct RevocationStreamTests {
    /// The frames read so far, parsed.
    static func frames(_ reader: EventStreamReader) -> [(id: Int, data: JSONValue)] {
        reader.frames.compactMap { frame in
            guard let id = frame.id, frame.event == "revocation", let data = frame.data, let json = try? JSONValue(parsing: Data(data.utf8)) else { return nil }
            return (id, json)
        }
    }

    /// The state the frames leave a certificate in (the last one naming it).
    static func state(of serial: String, in frames: [(id: Int, data: JSONValue)]) -> JSONValue? {
        frames.flatMap { $0.data["certificates"]?.arrayValue ?? [] }.last { $0["serial"]?.stringValue == serial }
    }

    @Test("holds, releases and revocations arrive as they commit, with serial, status-list position and DID; resumable; public")
    func revocationsArriveAndResume() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live, heartbeat: .milliseconds(100)) { client, admin, _ in
                let base = "http://127.0.0.1:\(try #require(client.port))/v1/revocations/stream"
                let fleet = PolicyFleet(client: client, admin: admin)
                let (id, _) = try await fleet.enroll(group: "feed", zone: "lab", roles: [])
                let detail = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json
                let serial = try #require(detail["certificates"]?.arrayValue.first?["serial"]?.stringValue)
                let did = try #require(detail["device"]?["did"]?.stringValue)
                let index = try #require(detail["credentials"]?.arrayValue.first?["statusIndex"]?.intValue)

                // No API key: the stream is as public as the CRL.
                let live = try EventStreamReader(url: base, apiKey: nil)
                defer { live.stop() }
                try await live.wait { $0.comments.contains { $0.hasPrefix("revocations after generation") } }

                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/suspend", apiKey: admin).status == 200)
                try await live.wait { Self.frames($0).count >= 1 }
                let hold = Self.frames(live)[0]
                let certificate = try #require(hold.data["certificates"]?.arrayValue.first)
                #expect(certificate["serial"]?.stringValue == serial)
                #expect(certificate["state"]?.stringValue == "hold")
                #expect(certificate["did"]?.stringValue == did)
                #expect(certificate["device"]?.stringValue == id)
                let bits = hold.data["statusBits"]?.arrayValue ?? []
                #expect(bits.contains {
                    $0["purpose"]?.stringValue == "suspension" && $0["set"] == .bool(true) && $0["did"]?.stringValue == did
                        && $0["statusListIndex"]?.intValue == index % BitstringStatusList.minimumSize
                        && $0["statusListCredential"]?.stringValue?.hasSuffix("/v1/status-lists/suspension-\(index / BitstringStatusList.minimumSize)") == true
                }, "\(bits)")

                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/reinstate", apiKey: admin).status == 200)
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/revoke", json: ["reason": "key-compromise"], apiKey: admin).status == 200)
                try await live.wait { Self.state(of: serial, in: Self.frames($0))?["state"]?.stringValue == "revoked" }
                let frames = Self.frames(live)
                #expect(frames.map(\.data).compactMap { Self.state(of: serial, in: [(0, $0)])?["state"]?.stringValue } == ["hold", "good", "revoked"])
                #expect(Self.state(of: serial, in: frames)?["reason"]?.stringValue == "key-compromise")
                #expect(frames.map(\.id) == frames.map(\.id).sorted() && Set(frames.map(\.id)).count == frames.count)
                let released = frames[1].data["statusBits"]?.arrayValue ?? []
                #expect(released.contains { $0["purpose"]?.stringValue == "suspension" && $0["set"] == .bool(false) }, "\(released)")
                #expect(frames[2].data["statusBits"]?.arrayValue.contains { $0["purpose"]?.stringValue == "revocation" && $0["set"] == .bool(true) } == true)

                // Resumed after the hold: the changes since, each certificate as it stands now.
                let resumed = try EventStreamReader(url: base, apiKey: nil, lastEventID: String(hold.id))
                defer { resumed.stop() }
                try await resumed.wait { Self.state(of: serial, in: Self.frames($0))?["state"]?.stringValue == "revoked" }
                #expect(Self.frames(resumed).allSatisfy { $0.id > hold.id })
                // From the start: the same final state.
                let all = try EventStreamReader(url: base + "?after=0", apiKey: nil)
                defer { all.stop() }
                try await all.wait { Self.state(of: serial, in: Self.frames($0))?["state"]?.stringValue == "revoked" }
                // Heartbeats name the generation the stream is current with.
                try await live.wait { $0.comments.contains { $0 == "heartbeat \(frames[2].id)" } }

                let past = try await client.call(.get, "/v1/revocations/stream?after=999999")
                #expect(past.status == 409)
                #expect(past.json["detail"]?.stringValue?.contains("past the newest") == true)
                let bad = try await client.call(.get, "/v1/revocations/stream?after=-1")
                #expect(bad.status == 400)
                #expect(bad.headers[.contentType]?.hasPrefix("application/problem+json") == true)
            }
        }
    }
}
