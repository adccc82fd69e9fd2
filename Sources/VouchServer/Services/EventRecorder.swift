import Foundation
import VouchCore
import VouchKit
import VouchStore

/// Appends the events of a change inside the change's transaction: every feature records what it
/// did this way, and the transparency log, caches on other nodes and the event feed follow them.
struct EventRecorder: Sendable {
    let clock: ServerClock

    /// The largest event the transparency log takes (its entries must stay under 65,536 bytes).
    static let maximumEventBytes = 60_000

    /// Records an event inside the caller's transaction.
    func record(
        _ session: StoreSession, kind: EventKind, subject: String, actor: String, data: [String: JSONValue] = [:]
    ) async throws {
        try await record(session, actor: actor, events: [EventDraft(kind: kind, subject: subject, actor: actor, data: data)])
    }

    /// Records several events inside the caller's transaction, with consecutive sequence numbers,
    /// all by `actor`.
    @discardableResult
    func record(_ session: StoreSession, actor: String, events: [EventDraft]) async throws -> [EventRecord] {
        try await session.events.append(try Self.checked(events, actor: actor), at: clock.seconds)
    }

    /// The drafts by `actor`, each small enough for the log: a log entry travels in C2SP entry
    /// bundles after a 16-bit length, so what would not fit is refused.
    static func checked(_ events: [EventDraft], actor: String) throws -> [EventDraft] {
        try events.map { event in
            var event = event
            event.actor = actor
            guard event.byteCount <= maximumEventBytes else {
                throw ServiceError.tooLarge(
                    "the change would record a \(event.kind.rawValue) event of over \(maximumEventBytes) bytes; make the settings or names smaller")
            }
            return event
        }
    }
}
