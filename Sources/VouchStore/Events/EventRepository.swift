import SQLKit
import VouchCore

/// The events: appended with consecutive sequence numbers, read in order.
package struct EventRepository: Sendable {
    let sql: any SQLDatabase
    var marks: CounterMarks? = nil

    /// Appends events with consecutive sequence numbers in two statements (one counter update, one
    /// multi-row insert), in the order given.
    @discardableResult
    package func append(_ drafts: [EventDraft], at: Int) async throws -> [EventRecord] {
        guard !drafts.isEmpty else { return [] }
        let last = try await CounterRepository(sql: sql, marks: marks).advance(.events, by: drafts.count)
        let first = last - drafts.count + 1
        let events = drafts.enumerated().map { offset, draft in
            EventRecord(seq: first + offset, at: at, kind: draft.kind.rawValue, subject: draft.subject, actor: draft.actor, dataText: draft.dataText)
        }
        try await sql.insert(into: "events", columns: ["seq", "at", "kind", "subject", "actor", "data"], rows: events) {
            [SQLBind($0.seq), SQLBind($0.at), SQLBind($0.kind), SQLBind($0.subject), SQLBind($0.actor), SQLBind($0.dataText)]
        }
        return events
    }

    /// A stored event, read column by column (the log reads every event once, as it is appended).
    private static func record(_ row: any SQLRow) throws -> EventRecord {
        EventRecord(
            seq: try row.decode(column: "seq", as: Int.self), at: try row.decode(column: "at", as: Int.self),
            kind: try row.decode(column: "kind", as: String.self), subject: try row.decode(column: "subject", as: String.self),
            actor: try row.decode(column: "actor", as: String.self), dataText: try row.decode(column: "data", as: String.self))
    }

    /// Events with a sequence number above `after`, oldest first.
    package func after(_ after: Int, limit: Int) async throws -> [EventRecord] {
        try await sql.raw(#"SELECT * FROM "events" WHERE "seq" > \#(bind: after) ORDER BY "seq" ASC LIMIT \#(literal: limit)"#).all()
            .map(Self.record)
    }

    /// The events numbered `seqs` (those that exist), oldest first.
    package func numbered(_ seqs: [Int]) async throws -> [EventRecord] {
        guard !seqs.isEmpty else { return [] }
        return try await sql.select().column("*").from("events").where("seq", .in, seqs).orderBy("seq").all().map(Self.record)
    }

    /// Subjects and kinds of events after `seq`, oldest first: what caches follow.
    package func summaries(after seq: Int, limit: Int) async throws -> [EventSummary] {
        try await sql.raw(#"SELECT "seq", "kind", "subject" FROM "events" WHERE "seq" > \#(bind: seq) ORDER BY "seq" ASC LIMIT \#(literal: limit)"#).all().map {
                EventSummary(
                    seq: try $0.decode(column: "seq", as: Int.self), kind: EventKind(rawValue: try $0.decode(column: "kind", as: String.self)),
                    subject: try $0.decode(column: "subject", as: String.self))
            }
    }

    /// The newest `limit` events, newest first, of one kind or kinds with a prefix (`device.`, a
    /// prefix ending in a dot), about one subject, when given.
    package func latest(limit: Int, kind: String? = nil, kindPrefix: String? = nil, subject: String? = nil) async throws -> [EventRecord] {
        let query = sql.select().column("*").from("events")
        if let subject { query.where("subject", .equal, subject) }
        if let kind { query.where("kind", .equal, kind) }
        // Kinds are lower-case letters, dots and dashes: no LIKE wildcard to escape.
        if let kindPrefix { query.where("kind", .like, kindPrefix + "%") }
        return try await query.orderBy("seq", .descending).limit(limit).all().map(Self.record)
    }

    /// The first `limit` events about `subject`, oldest first.
    package func about(_ subject: String, limit: Int) async throws -> [EventRecord] {
        try await sql.select().column("*").from("events").where("subject", .equal, subject)
            .orderBy("seq").limit(limit).all().map(Self.record)
    }
}
