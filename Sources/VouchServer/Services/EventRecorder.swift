import Foundation
import VouchKit
import VouchStore

/// One event of a change, before the store gives it its sequence number.
struct EventDraft: Sendable {
    var kind: String
    var subject: String
    var data: [String: JSONValue] = [:]
}

/// Appends the events of a change inside the change's transaction: every feature records what it
/// did this way, and the transparency log, caches on other nodes and the event feed follow them.
struct EventRecorder: Sendable {
    let clock: ServerClock

    /// The largest event the transparency log takes (its entries must stay under 65,536 bytes).
    static let maximumEventBytes = 60_000

    /// Records an event inside the caller's transaction.
    func record(
        _ session: StoreSession, kind: String, subject: String, actor: String, data: [String: JSONValue] = [:]
    ) async throws {
        try await record(session, actor: actor, events: [EventDraft(kind: kind, subject: subject, data: data)])
    }

    /// Records several events inside the caller's transaction, with consecutive sequence numbers.
    @discardableResult
    func record(_ session: StoreSession, actor: String, events: [EventDraft]) async throws -> [EventRow] {
        try await session.appendEvents(try Self.rows(events, actor: actor), at: clock.seconds)
    }

    /// Events as the store appends them: data as canonical JSON text, the actor on each. A log
    /// entry travels in C2SP entry bundles after a 16-bit length: what would not fit is refused.
    static func rows(_ events: [EventDraft], actor: String) throws -> [(kind: String, subject: String, actor: String, data: String)] {
        try events.map { event in
            let row = (kind: event.kind, subject: event.subject, actor: actor, data: String(decoding: JSONValue.object(event.data).canonicalJSON, as: UTF8.self))
            guard row.data.utf8.count + row.subject.utf8.count + row.actor.utf8.count + row.kind.utf8.count <= maximumEventBytes else {
                throw ServiceError.tooLarge(
                    "the change would record a \(row.kind) event of over \(maximumEventBytes) bytes; make the settings or names smaller")
            }
            return row
        }
    }
}
