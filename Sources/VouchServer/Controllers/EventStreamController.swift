import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import Synchronization
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

/// `GET /v1/events/stream`: every event as it is committed, as Server-Sent Events (`id:` the event's
/// sequence number, `event:` its kind, `data:` the event as `GET /v1/events` lists it). A client
/// resumes with `Last-Event-ID` (or `?after=SEQ`) and gets every event after it once, in order: the
/// stream reads the events table after the last sequence number it sent, and events are committed
/// in sequence order. Without either it starts at the newest event. `?kind=` keeps kinds (exact,
/// or a prefix written `device.*`; comma-separated) and `?subject=` one subject. A comment line
/// goes out when nothing else has for `heartbeat`, so proxies and clients see the stream alive.
struct EventStreamController<Keys: APIKeyManaging>: Sendable {
    let apiKeys: Keys
    let store: Store
    let heartbeat: Duration

    /// The routes under `/v1/events`.
    var endpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
            .add(middleware: APIKeyAuthenticator(apiKeys: apiKeys))
            .add(middleware: RequireScope(.readOnly))
        routes.get("stream", use: stream)
        return routes
    }

    /// Events read from the table at a time.
    static var page: Int { 500 }

    /// Which events a stream keeps.
    struct Filter: Sendable {
        var exact: Set<String> = []
        var prefixes: [String] = []
        var subject: String?

        func keeps(kind: String, subject: String) -> Bool {
            if let wanted = self.subject, wanted != subject { return false }
            if exact.isEmpty && prefixes.isEmpty { return true }
            return exact.contains(kind) || prefixes.contains { kind.hasPrefix($0) }
        }

        /// Reads `kind` and `subject` from a query, refusing what cannot be a kind or a subject.
        init(kind: String?, subject: String?) throws {
            if let kind {
                let entries = kind.split(separator: ",", omittingEmptySubsequences: true).map(String.init)
                guard !entries.isEmpty, entries.count <= 32 else {
                    throw ServiceError.invalidRequest("kind is one to 32 comma-separated event kinds or prefixes such as device.*")
                }
                for entry in entries {
                    let body = entry.hasSuffix("*") ? String(entry.dropLast()) : entry
                    guard !body.isEmpty, body.utf8.count <= 64, body.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x2D }) else {
                        throw ServiceError.invalidRequest(
                            "kind \(entry.prefix(64)) is not an event kind (lower-case letters, dots and dashes) or a prefix such as device.*")
                    }
                    if entry.hasSuffix("*") { prefixes.append(body) } else { exact.insert(body) }
                }
            }
            if let subject {
                guard !subject.isEmpty, subject.utf8.count <= 256 else { throw ServiceError.invalidRequest("subject is 1 to 256 characters") }
                self.subject = subject
            }
        }
    }

    /// A sequence number from outside: whole, 0 or more, and no longer than 15 digits.
    static func sequenceNumber(_ text: Substring, named name: String) throws -> Int {
        guard !text.isEmpty, text.utf8.count <= 15, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(text) else {
            throw ServiceError.invalidRequest("\(name) must be an event sequence number (0 or more)")
        }
        return value
    }

    /// Streams open on this server, and the most it keeps open: each holds a connection and wakes
    /// on every commit.
    let open: OpenStreams
    static var limit: Int { 1_000 }

    final class OpenStreams: Sendable {
        private let count = Atomic(0)
        func take(limit: Int) -> Bool {
            if count.add(1, ordering: .relaxed).newValue > limit {
                count.subtract(1, ordering: .relaxed)
                return false
            }
            return true
        }
        func give() { count.subtract(1, ordering: .relaxed) }
    }

    @Sendable func stream(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let filter = try Filter(kind: query["kind"].map(String.init), subject: query["subject"].map(String.init))
        let newest = try await store.read { try await $0.counters.current(.events) }
        let start: Int
        if let resume = request.headers[HTTPField.Name("Last-Event-ID")!] {
            start = try Self.sequenceNumber(Substring(resume.trimmingCharacters(in: .whitespaces)), named: "Last-Event-ID")
        } else if let after = query["after"] {
            start = try Self.sequenceNumber(after, named: "after")
        } else {
            start = newest
        }
        // A position past the newest event is another log's (a database restored from an older
        // backup numbers its events again): resuming there would skip events without a word.
        guard start <= newest else {
            throw ServiceError.conflict("event \(start) is past the newest, \(newest): this is not the event log the client read; resume from 0")
        }
        // The key is asked again as the stream goes on: a revoked key's stream ends.
        let secret = String(request.headers[.authorization]?.dropFirst("Bearer ".count) ?? "")
        let apiKeys = self.apiKeys
        let open = self.open
        let store = self.store
        let heartbeat = self.heartbeat
        let pulse = store.database.eventsCommitted
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = ResponseBody { writer in
            // Counted while the body runs (a HEAD request, or a client gone before it starts, never
            // runs it). Past the limit the stream ends at once, and the client comes back later.
            guard open.take(limit: Self.limit) else {
                try await writer.write(ByteBuffer(string: "retry: 30000\n: this server has \(Self.limit) event streams open; try again later\n\n"))
                try await writer.finish(nil)
                return
            }
            defer { open.give() }
            // How long a client waits before reconnecting, and where the stream starts.
            try await writer.write(ByteBuffer(string: "retry: 2000\n: events after \(start)\n\n"))
            // A server shutting down ends its streams (clients resume elsewhere or after the restart).
            let stopping = Atomic(false)
            try await withGracefulShutdownHandler {
                var last = start
                var lastWrite = ContinuousClock.now
                while !Task.isCancelled, !stopping.load(ordering: .relaxed) {
                    guard let key = try? await apiKeys.authenticate(secret), key.revokedAt == nil, key.scope >= .readOnly else {
                        break
                    }
                    let beat = pulse.beat
                    let after = last
                    let events = try await store.read { try await $0.events.after(after, limit: Self.page) }
                    var frames = ""
                    for event in events {
                        last = event.seq
                        guard filter.keeps(kind: event.kind, subject: event.subject) else { continue }
                        // An event whose data does not read is sent without it, not left to stop every stream.
                        let data = (try? event.data()) ?? .null
                        let view = EventView(seq: event.seq, at: event.at, kind: event.kind, subject: event.subject, actor: event.actor, data: data)
                        frames += "id: \(event.seq)\nevent: \(event.kind)\ndata: " + String(decoding: try encoder.encode(view), as: UTF8.self) + "\n\n"
                    }
                    if !frames.isEmpty {
                        try await writer.write(ByteBuffer(string: frames))
                        lastWrite = ContinuousClock.now
                    }
                    if events.count < Self.page {
                        await pulse.wait(after: beat, timeout: heartbeat)
                    }
                    if ContinuousClock.now - lastWrite >= heartbeat, !Task.isCancelled, !stopping.load(ordering: .relaxed) {
                        // Nothing written for a while (nothing new, or nothing the filter keeps): a
                        // comment keeps the connection known to be alive, and finds a client that left.
                        try await writer.write(ByteBuffer(string: ": heartbeat \(last)\n\n"))
                        lastWrite = ContinuousClock.now
                    }
                }
            } onGracefulShutdown: {
                stopping.store(true, ordering: .relaxed)
                pulse.pulse()
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no"],
            body: body)
    }
}
