import Foundation
import Synchronization
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchAPI
import VouchCore
import VouchKit

/// A stream read with VouchAPI's `EventStreamClient` into a list a test polls (with a deadline)
/// while it makes events happen.
final class EventStreamReader: Sendable {
    private final class Read: Sendable {
        let state = Mutex<(frames: [Frame], comments: [String], failure: String?)>(([], [], nil))
    }
    private let task: Task<Void, Never>
    private let read = Read()

    struct Frame: Equatable, Sendable {
        var id: Int?
        var event: String?
        var data: String?
    }

    init(url: String, apiKey: String?, lastEventID: String? = nil) throws {
        let target = try #require(URLComponents(string: url))
        let server = "\(target.scheme ?? "http")://\(target.host ?? ""):\(target.port ?? 80)"
        let path = target.percentEncodedPath + (target.percentEncodedQuery.map { "?" + $0 } ?? "")
        let client = try EventStreamClient(server: server, apiKey: apiKey)
        let read = self.read
        task = Task {
            do {
                for try await frame in client.frames(path: path, lastEventID: lastEventID, comments: true) {
                    read.state.withLock {
                        if let comment = frame.comment {
                            $0.comments.append(comment.trimmingCharacters(in: .whitespaces))
                        } else {
                            $0.frames.append(Frame(id: frame.id.flatMap { Int($0) }, event: frame.event, data: frame.data))
                        }
                    }
                }
            } catch {
                read.state.withLock { $0.failure = "\(error)" }
            }
        }
    }

    var frames: [Frame] { read.state.withLock { $0.frames } }
    var comments: [String] { read.state.withLock { $0.comments } }
    var failure: String? { read.state.withLock { $0.failure } }

    /// Waits (30 s at most) until `done` holds for what was read.
    func wait(until done: (EventStreamReader) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if done(self) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the stream did not get there within 30 s; it read \(frames), \(comments) (\(read.state.withLock { $0.failure } ?? "no error"))")
    }

    func stop() {
        task.cancel()
    }
}

@Suite("Event stream (Server-Sent Events)")
struct EventStreamTests {
    @Test func eventsArriveAsTheyAreCommittedFilteredAndResumeWithoutGapOrRepeat() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live, heartbeat: .milliseconds(100)) { client, admin, _ in
                let port = try #require(client.port)
                let base = "http://127.0.0.1:\(port)/v1/events/stream"
                let all = try EventStreamReader(url: base, apiKey: admin)
                defer { all.stop() }
                let groups = try EventStreamReader(url: base + "?kind=group.*", apiKey: admin)
                defer { groups.stop() }
                // Both are connected once they have said where they start.
                try await all.wait { $0.comments.contains { $0.hasPrefix("events after") } }
                try await groups.wait { $0.comments.contains { $0.hasPrefix("events after") } }

                _ = try await client.createGroup("stream-a", apiKey: admin)
                _ = try await client.vouch(.apiKey(admin)).createAPIKey(CreateAPIKey(name: "reader"))
                _ = try await client.createGroup("stream-b", apiKey: admin)
                try await all.wait { $0.frames.count >= 3 }
                try await groups.wait { $0.frames.count >= 2 }
                #expect(all.frames.map(\.event) == ["group.created", "apikey.created", "group.created"])
                #expect(groups.frames.map(\.event) == ["group.created", "group.created"])
                let ids = all.frames.compactMap(\.id)
                #expect(ids == Array(ids[0]...(ids[0] + 2)), "consecutive sequence numbers")
                let first = try JSONValue(parsing: Data(try #require(all.frames.first?.data).utf8))
                #expect(first["kind"]?.stringValue == "group.created" && first["seq"]?.numberValue == Double(ids[0]))
                #expect(first["data"]?["name"]?.stringValue == "stream-a", "\(first)")
                // Idle, it sends heartbeats.
                try await all.wait { $0.comments.contains("heartbeat \(ids[2])") }

                // A client that left after the first event resumes from it: the rest, once each, and
                // what was committed meanwhile.
                _ = try await client.createGroup("stream-c", apiKey: admin)
                let resumed = try EventStreamReader(url: base, apiKey: admin, lastEventID: String(ids[0]))
                defer { resumed.stop() }
                try await resumed.wait { $0.frames.count >= 3 }
                #expect(resumed.frames.compactMap(\.id) == [ids[0] + 1, ids[0] + 2, ids[0] + 3])
                let created = try JSONValue(parsing: Data(try #require(resumed.frames.last?.data).utf8))
                let subject = try #require(created["subject"]?.stringValue)
                let from = try EventStreamReader(url: base + "?after=\(ids[0])&subject=\(subject)", apiKey: admin)
                defer { from.stop() }
                try await from.wait { !$0.frames.isEmpty }
                #expect(from.frames.map(\.event) == ["group.created"])
            }
        }
    }

    @Test func aClientResumingAcrossARestartSeesEveryEventOnce() async throws {
        try await withDataDirectory { dir in
            let seen = try await withServer(dataDirectory: dir, setup: .live) { client, admin, _ in
                let stream = try EventStreamReader(url: "http://127.0.0.1:\(try #require(client.port))/v1/events/stream", apiKey: admin)
                defer { stream.stop() }
                try await stream.wait { $0.comments.contains { $0.hasPrefix("events after") } }
                _ = try await client.createGroup("before-restart", apiKey: admin)
                try await stream.wait { !$0.frames.isEmpty }
                return try #require(stream.frames.last?.id)
            }
            try await withServer(dataDirectory: dir, setup: .live) { client, admin, _ in
                _ = try await client.createGroup("after-restart", apiKey: admin)
                let last = try #require(try await client.call(.get, "/v1/events?after=0&limit=10000", apiKey: admin).json["last"]?.numberValue)
                let resumed = try EventStreamReader(
                    url: "http://127.0.0.1:\(try #require(client.port))/v1/events/stream", apiKey: admin, lastEventID: String(seen))
                defer { resumed.stop() }
                try await resumed.wait { $0.frames.last?.id == Int(last) }
                #expect(resumed.frames.compactMap(\.id) == Array((seen + 1)...Int(last)))
                #expect(resumed.frames.last?.event == "group.created")
            }
        }
    }

    @Test func aRevokedKeysStreamEndsAndIsNotOpenedAgain() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live) { client, admin, _ in
                let created = try await client.vouch(.apiKey(admin)).createAPIKey(CreateAPIKey(name: "watcher", scope: .readOnly))
                let stream = try EventStreamReader(url: "http://127.0.0.1:\(try #require(client.port))/v1/events/stream", apiKey: created.secret)
                defer { stream.stop() }
                try await stream.wait { $0.comments.contains { $0.hasPrefix("events after") } }
                _ = try await client.call(.delete, "/v1/admin/api-keys/\(created.id)", apiKey: admin)
                _ = try await client.createGroup("after-revocation", apiKey: admin)
                // The stream ends at the revocation; opened again, the key is refused, and that ends it.
                try await stream.wait { $0.failure != nil }
                #expect(stream.failure?.contains("HTTP 401") == true, "\(String(describing: stream.failure))")
                #expect(!stream.frames.contains { $0.data?.contains("after-revocation") == true }, "\(stream.frames)")
            }
        }
    }

    @Test func theStreamNeedsAReadingKeyAndSaysWhatIsWrongWithAQuery() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                #expect(try await client.call(.get, "/v1/events/stream").status == 401)
                let gateway = try await client.vouch(.apiKey(admin)).createAPIKey(CreateAPIKey(name: "gw", scope: .gateway)).secret
                #expect(try await client.call(.get, "/v1/events/stream", apiKey: gateway).status == 403)
                expectProblem(try await client.call(.get, "/v1/events/stream?kind=Device!", apiKey: admin), 400, "is not an event kind")
                expectProblem(try await client.call(.get, "/v1/events/stream?after=-1", apiKey: admin), 400, "after must be an event sequence number")
                expectProblem(try await client.call(.get, "/v1/events/stream?after=99999999999999999999", apiKey: admin), 400, "after must be")
                // A position past the newest event belongs to another log (a restore from an older backup).
                expectProblem(try await client.call(.get, "/v1/events/stream?after=999999", apiKey: admin), 409, "is past the newest")
                expectProblem(
                    try await client.call(.get, "/v1/events/stream", apiKey: admin, headers: [HTTPField.Name("Last-Event-ID")!: "1e9"]), 400,
                    "Last-Event-ID must be")
            }
        }
    }
}
