import Foundation
import HTTPTypes
import Hummingbird
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
                    guard EventKind.isPattern(entry) else {
                        throw ServiceError.invalidRequest(
                            "kind \(entry.prefix(64)) is not an event kind (lower-case letters, dots and dashes) or a prefix such as device.*")
                    }
                    if entry.hasSuffix("*") { prefixes.append(String(entry.dropLast())) } else { exact.insert(entry) }
                }
            }
            if let subject {
                guard !subject.isEmpty, subject.utf8.count <= 256 else { throw ServiceError.invalidRequest("subject is 1 to 256 characters") }
                self.subject = subject
            }
        }
    }

    /// Streams open on this server.
    let open: ServerSentEvents.OpenStreams

    @Sendable func stream(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let filter = try Filter(kind: query["kind"].map(String.init), subject: query["subject"].map(String.init))
        let newest = try await store.read { try await $0.counters.current(.events) }
        let start = try ServerSentEvents.start(request, newest: newest, what: "event")
        // The key is asked again as the stream goes on: a revoked key's stream ends.
        let secret = String(request.headers[.authorization]?.dropFirst("Bearer ".count) ?? "")
        let apiKeys = self.apiKeys
        let store = self.store
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ServerSentEvents.response(
            open: open, pulse: store.database.eventsCommitted, heartbeat: heartbeat, start: start, greeting: "events after \(start)"
        ) { after in
            guard let key = try? await apiKeys.authenticate(secret), key.revokedAt == nil, key.scope >= .readOnly else { return nil }
            let events = try await store.read { try await $0.events.after(after, limit: Self.page) }
            var frames = ""
            for event in events where filter.keeps(kind: event.kind, subject: event.subject) {
                // An event whose data does not read is sent without it, not left to stop every stream.
                let data = (try? event.data()) ?? .null
                let view = EventView(seq: event.seq, at: event.at, kind: event.kind, subject: event.subject, actor: event.actor, data: data)
                frames += "id: \(event.seq)\nevent: \(event.kind)\ndata: " + String(decoding: try encoder.encode(view), as: UTF8.self) + "\n\n"
            }
            return ServerSentEvents.Page(frames: frames, last: events.last?.seq ?? after, more: events.count == Self.page)
        }
    }
}
