import Foundation
import SQLKit
import VouchCore

/// A webhook endpoint as stored. Its secret is kept as written (`whsec_…`): an HMAC needs it.
package struct WebhookEndpointRecord: Sendable, Hashable {
    package var id: String
    package var url: String
    package var description: String
    /// Event kinds kept: exact kinds or prefixes written `device.*`; empty keeps every event.
    package var kinds: [String]
    package var enabled: Bool
    /// Whether deliveries also carry the authority's Ed25519 (`v1a`) signature.
    package var signV1a: Bool
    package var secret: String
    /// The secret before the last rotation, still signed with until `previousSecretUntil` (seconds).
    package var previousSecret: String?
    package var previousSecretUntil: Int?
    /// The last event sequence number the outbox has looked at for this endpoint.
    package var cursor: Int
    /// Since when (milliseconds) every attempt has failed; nil after a success.
    package var failingSince: Int?
    /// Why the authority disabled the endpoint by itself, if it did.
    package var disabledReason: String?
    package var createdAt: Int
    package var updatedAt: Int

    package init(
        id: String, url: String, description: String, kinds: [String], enabled: Bool, signV1a: Bool, secret: String,
        previousSecret: String? = nil, previousSecretUntil: Int? = nil, cursor: Int, failingSince: Int? = nil, disabledReason: String? = nil,
        createdAt: Int, updatedAt: Int
    ) {
        self.id = id
        self.url = url
        self.description = description
        self.kinds = kinds
        self.enabled = enabled
        self.signV1a = signV1a
        self.secret = secret
        self.previousSecret = previousSecret
        self.previousSecretUntil = previousSecretUntil
        self.cursor = cursor
        self.failingSince = failingSince
        self.disabledReason = disabledReason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether the filters keep an event of `kind`.
    package func keeps(kind: String) -> Bool {
        kinds.isEmpty || kinds.contains { EventKind.kind(kind, matches: $0) }
    }
}

/// What became of a delivery.
package enum WebhookDeliveryState: String, Sendable, Codable, CaseIterable {
    /// Waiting for its next attempt (or being attempted).
    case pending
    /// The endpoint answered 2xx.
    case delivered
    /// No further attempt: a final refusal, or the schedule ran out.
    case failed
}

/// One event to deliver to one endpoint.
package struct WebhookDeliveryRecord: Sendable, Hashable {
    package var endpointID: String
    package var seq: Int
    package var state: WebhookDeliveryState
    /// Attempts made since the delivery was last (re)queued: where it is in the retry schedule.
    package var tries: Int
    /// Attempts made in all.
    package var attempts: Int
    /// When (milliseconds) it is next due, or, while it is attempted, until when the attempt holds it.
    package var nextAt: Int
    package var createdAt: Int
    package var finishedAt: Int?

    package init(
        endpointID: String, seq: Int, state: WebhookDeliveryState, tries: Int, attempts: Int, nextAt: Int, createdAt: Int, finishedAt: Int? = nil
    ) {
        self.endpointID = endpointID
        self.seq = seq
        self.state = state
        self.tries = tries
        self.attempts = attempts
        self.nextAt = nextAt
        self.createdAt = createdAt
        self.finishedAt = finishedAt
    }
}

/// One attempt at a delivery, as the endpoint answered it (or did not).
package struct WebhookAttemptRecord: Sendable, Hashable {
    package var endpointID: String
    package var seq: Int
    package var attempt: Int
    /// Milliseconds since 1970.
    package var at: Int
    package var status: Int?
    package var latencyMs: Int
    package var error: String?
    /// The first bytes of the answer's body.
    package var response: String?

    package init(endpointID: String, seq: Int, attempt: Int, at: Int, status: Int?, latencyMs: Int, error: String?, response: String?) {
        self.endpointID = endpointID
        self.seq = seq
        self.attempt = attempt
        self.at = at
        self.status = status
        self.latencyMs = latencyMs
        self.error = error
        self.response = response
    }
}

/// Webhook endpoints, their outbox of deliveries and every attempt.
package struct WebhookRepository: Sendable {
    let sql: any SQLDatabase

    private struct EndpointRow: Codable {
        var id: String
        var url: String
        var description: String
        var kinds: String
        var enabled: Int
        var asymmetric: Int
        var secret: String
        var previousSecret: String?
        var previousSecretUntil: Int?
        var cursor: Int
        var failingSince: Int?
        var disabledReason: String?
        var createdAt: Int
        var updatedAt: Int
    }

    private static func endpoint(_ row: EndpointRow) throws -> WebhookEndpointRecord {
        guard let kinds = try? JSONDecoder().decode([String].self, from: Data(row.kinds.utf8)) else {
            throw StoreError.corrupt("webhook endpoint \(row.id) has kinds that are not a JSON list")
        }
        return WebhookEndpointRecord(
            id: row.id, url: row.url, description: row.description, kinds: kinds, enabled: row.enabled != 0, signV1a: row.asymmetric != 0,
            secret: row.secret, previousSecret: row.previousSecret, previousSecretUntil: row.previousSecretUntil, cursor: row.cursor,
            failingSince: row.failingSince, disabledReason: row.disabledReason, createdAt: row.createdAt, updatedAt: row.updatedAt)
    }

    private static func kindsText(_ kinds: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(kinds)) ?? Data("[]".utf8), as: UTF8.self)
    }

    package func insert(_ endpoint: WebhookEndpointRecord) async throws {
        try await sql.insert(into: "webhook_endpoints")
            .columns(
                "id", "url", "description", "kinds", "enabled", "asymmetric", "secret", "previous_secret", "previous_secret_until", "cursor",
                "failing_since", "disabled_reason", "created_at", "updated_at"
            )
            .values(
                SQLBind(endpoint.id), SQLBind(endpoint.url), SQLBind(endpoint.description), SQLBind(Self.kindsText(endpoint.kinds)),
                SQLBind(endpoint.enabled ? 1 : 0), SQLBind(endpoint.signV1a ? 1 : 0), SQLBind(endpoint.secret), SQLBind(endpoint.previousSecret),
                SQLBind(endpoint.previousSecretUntil), SQLBind(endpoint.cursor), SQLBind(endpoint.failingSince), SQLBind(endpoint.disabledReason),
                SQLBind(endpoint.createdAt), SQLBind(endpoint.updatedAt)
            ).run()
    }

    /// Writes everything but the cursor (which only `moveCursor` and `rewind` move).
    package func update(_ endpoint: WebhookEndpointRecord) async throws {
        try await sql.update("webhook_endpoints")
            .set("url", to: endpoint.url).set("description", to: endpoint.description).set("kinds", to: Self.kindsText(endpoint.kinds))
            .set("enabled", to: endpoint.enabled ? 1 : 0).set("asymmetric", to: endpoint.signV1a ? 1 : 0).set("secret", to: endpoint.secret)
            .set("previous_secret", to: SQLBind(endpoint.previousSecret)).set("previous_secret_until", to: SQLBind(endpoint.previousSecretUntil))
            .set("failing_since", to: SQLBind(endpoint.failingSince)).set("disabled_reason", to: SQLBind(endpoint.disabledReason))
            .set("updated_at", to: endpoint.updatedAt)
            .where("id", .equal, endpoint.id).run()
    }

    /// The endpoint, locked until the transaction ends on PostgreSQL.
    package func endpoint(_ id: String, forUpdate: Bool = false) async throws -> WebhookEndpointRecord? {
        let query = sql.select().column("*").from("webhook_endpoints").where("id", .equal, id)
        if forUpdate, sql.isPostgres { query.for(.update) }
        return try await query.first(decoding: EndpointRow.self, with: SQLValues.decoder).map(Self.endpoint)
    }

    package func endpoints() async throws -> [WebhookEndpointRecord] {
        try await sql.select().column("*").from("webhook_endpoints").orderBy("id")
            .all(decoding: EndpointRow.self, with: SQLValues.decoder).map(Self.endpoint)
    }

    package func count() async throws -> Int {
        try await sql.raw(#"SELECT COUNT(*) AS "n" FROM "webhook_endpoints""#).first(decodingColumn: "n", as: Int.self) ?? 0
    }

    /// Moves the cursor from `from` to `to`; false when another node moved it first.
    package func moveCursor(_ id: String, from: Int, to: Int) async throws -> Bool {
        try await sql.update("webhook_endpoints").set("cursor", to: to)
            .where("id", .equal, id).where("cursor", .equal, from)
            .returning("id").first() != nil
    }

    /// Deletes the endpoint with its deliveries and attempts; false when there was none.
    package func delete(_ id: String) async throws -> Bool {
        try await sql.delete(from: "webhook_attempts").where("endpoint_id", .equal, id).run()
        try await sql.delete(from: "webhook_deliveries").where("endpoint_id", .equal, id).run()
        return try await sql.delete(from: "webhook_endpoints").where("id", .equal, id).returning("id").first() != nil
    }

    // MARK: Deliveries

    private struct DeliveryRow: Codable {
        var endpointId: String
        var seq: Int
        var state: String
        var tries: Int
        var attempts: Int
        var nextAt: Int
        var createdAt: Int
        var finishedAt: Int?
    }

    private static func delivery(_ row: DeliveryRow) throws -> WebhookDeliveryRecord {
        guard let state = WebhookDeliveryState(rawValue: row.state) else {
            throw StoreError.corrupt("webhook delivery \(row.endpointId)/\(row.seq) is in state \(row.state)")
        }
        return WebhookDeliveryRecord(
            endpointID: row.endpointId, seq: row.seq, state: state, tries: row.tries, attempts: row.attempts, nextAt: row.nextAt,
            createdAt: row.createdAt, finishedAt: row.finishedAt)
    }

    /// Queues events for an endpoint, due at `at` (milliseconds); one already queued stays as it is.
    package func enqueue(endpointID: String, seqs: [Int], at: Int) async throws {
        for chunk in stride(from: 0, to: seqs.count, by: 200) {
            let query = sql.insert(into: "webhook_deliveries")
                .columns("endpoint_id", "seq", "state", "tries", "attempts", "next_at", "created_at", "finished_at")
            for seq in seqs[chunk..<min(chunk + 200, seqs.count)] {
                query.values(
                    SQLBind(endpointID), SQLBind(seq), SQLBind(WebhookDeliveryState.pending.rawValue), SQLBind(0), SQLBind(0), SQLBind(at),
                    SQLBind(at), SQLBind(Int?.none))
            }
            try await query.ignoringConflicts(with: ["endpoint_id", "seq"]).run()
        }
    }

    /// The enabled endpoints with a delivery due by `now` (milliseconds).
    package func dueEndpoints(now: Int) async throws -> [String] {
        try await sql.raw(
            #"SELECT DISTINCT d."endpoint_id" FROM "webhook_deliveries" AS d JOIN "webhook_endpoints" AS e ON e."id" = d."endpoint_id" WHERE d."state" = 'pending' AND d."next_at" <= \#(bind: now) AND e."enabled" = 1"#
        ).all().map { try $0.decode(column: "endpoint_id", as: String.self) }
    }

    /// An endpoint's pending deliveries due by `now` (milliseconds), soonest first.
    package func due(endpointID: String, now: Int, limit: Int) async throws -> [WebhookDeliveryRecord] {
        try await sql.select().column("*").from("webhook_deliveries")
            .where("endpoint_id", .equal, endpointID).where("state", .equal, WebhookDeliveryState.pending.rawValue)
            .where("next_at", .lessThanOrEqual, now).orderBy("next_at").orderBy("seq").limit(limit)
            .all(decoding: DeliveryRow.self, with: SQLValues.decoder).map(Self.delivery)
    }

    /// When the next pending delivery of an enabled endpoint is due (milliseconds), if any is.
    package func nextDue() async throws -> Int? {
        guard let row = try await sql.raw(
            #"SELECT MIN(d."next_at") AS "next" FROM "webhook_deliveries" AS d JOIN "webhook_endpoints" AS e ON e."id" = d."endpoint_id" WHERE d."state" = 'pending' AND e."enabled" = 1"#
        ).first() else {
            return nil
        }
        return try row.decodeNil(column: "next") ? nil : row.decode(column: "next", as: Int.self)
    }

    /// Takes a due delivery for one attempt, holding it until `until` (milliseconds): false when
    /// another node took it first.
    package func claim(_ delivery: WebhookDeliveryRecord, until: Int) async throws -> Bool {
        try await sql.update("webhook_deliveries").set("next_at", to: until).set("claimed", to: 1)
            .where("endpoint_id", .equal, delivery.endpointID).where("seq", .equal, delivery.seq)
            .where("state", .equal, WebhookDeliveryState.pending.rawValue).where("next_at", .equal, delivery.nextAt)
            .returning("seq").first() != nil
    }

    /// Writes a delivery's state after an attempt or a redelivery.
    package func save(_ delivery: WebhookDeliveryRecord) async throws {
        try await sql.update("webhook_deliveries")
            .set("state", to: delivery.state.rawValue).set("tries", to: delivery.tries).set("attempts", to: delivery.attempts)
            .set("next_at", to: delivery.nextAt).set("finished_at", to: SQLBind(delivery.finishedAt)).set("claimed", to: 0)
            .where("endpoint_id", .equal, delivery.endpointID).where("seq", .equal, delivery.seq).run()
    }

    /// Makes every claimed delivery due at `at`: for a server that knows no other is attempting
    /// deliveries (SQLite, whose database one process holds), at start. Returns how many.
    package func releaseClaims(at: Int) async throws -> Int {
        try await sql.update("webhook_deliveries").set("next_at", to: at).set("claimed", to: 0)
            .where("claimed", .equal, 1).where("state", .equal, WebhookDeliveryState.pending.rawValue)
            .returning("seq").all().count
    }

    /// Writes a delivery's state after an attempt, unless it changed since the attempt claimed it
    /// (a redelivery or replay queued it again meanwhile: that stands). False when it had.
    package func settle(_ delivery: WebhookDeliveryRecord, claimedUntil: Int) async throws -> Bool {
        try await sql.update("webhook_deliveries")
            .set("state", to: delivery.state.rawValue).set("tries", to: delivery.tries).set("attempts", to: delivery.attempts)
            .set("next_at", to: delivery.nextAt).set("finished_at", to: SQLBind(delivery.finishedAt)).set("claimed", to: 0)
            .where("endpoint_id", .equal, delivery.endpointID).where("seq", .equal, delivery.seq)
            .where("state", .equal, WebhookDeliveryState.pending.rawValue).where("next_at", .equal, claimedUntil)
            .returning("seq").first() != nil
    }

    /// Sets how many attempts a delivery has had (one queued again while it was attempted).
    package func countAttempts(endpointID: String, seq: Int, to count: Int) async throws {
        try await sql.update("webhook_deliveries").set("attempts", to: count)
            .where("endpoint_id", .equal, endpointID).where("seq", .equal, seq).run()
    }

    package func delivery(endpointID: String, seq: Int) async throws -> WebhookDeliveryRecord? {
        try await sql.select().column("*").from("webhook_deliveries").where("endpoint_id", .equal, endpointID).where("seq", .equal, seq)
            .first(decoding: DeliveryRow.self, with: SQLValues.decoder).map(Self.delivery)
    }

    /// An endpoint's deliveries, newest event first, those before `before` when given.
    package func deliveries(endpointID: String, before: Int?, limit: Int) async throws -> [WebhookDeliveryRecord] {
        let query = sql.select().column("*").from("webhook_deliveries").where("endpoint_id", .equal, endpointID)
        if let before { query.where("seq", .lessThan, before) }
        return try await query.orderBy("seq", .descending).limit(limit)
            .all(decoding: DeliveryRow.self, with: SQLValues.decoder).map(Self.delivery)
    }

    /// How many of an endpoint's deliveries are in each state.
    package func counts(endpointID: String) async throws -> [WebhookDeliveryState: Int] {
        let rows = try await sql.raw(
            #"SELECT "state", COUNT(*) AS "n" FROM "webhook_deliveries" WHERE "endpoint_id" = \#(bind: endpointID) GROUP BY "state""#
        ).all()
        var counts: [WebhookDeliveryState: Int] = [:]
        for row in rows {
            if let state = WebhookDeliveryState(rawValue: try row.decode(column: "state", as: String.self)) {
                counts[state] = try row.decode(column: "n", as: Int.self)
            }
        }
        return counts
    }

    /// Queues an endpoint's deliveries of events from `from` on again, due at `at`, from the start
    /// of the retry schedule.
    package func requeue(endpointID: String, from: Int, at: Int) async throws {
        try await sql.update("webhook_deliveries")
            .set("state", to: WebhookDeliveryState.pending.rawValue).set("tries", to: 0).set("next_at", to: at).set("finished_at", to: SQLLiteral.null)
            .set("claimed", to: 0)
            .where("endpoint_id", .equal, endpointID).where("seq", .greaterThanOrEqual, from).run()
    }

    /// Moves an endpoint's cursor back to `to` when it is past it, so that events after it that
    /// were never queued (before the endpoint existed, or outside its filters then) are looked at again.
    package func rewind(_ id: String, to: Int) async throws {
        try await sql.update("webhook_endpoints").set("cursor", to: to).where("id", .equal, id).where("cursor", .greaterThan, to).run()
    }

    /// Forgets finished deliveries (and their attempts) that finished before `before` (milliseconds).
    package func prune(finishedBefore before: Int) async throws {
        try await sql.raw(
            #"DELETE FROM "webhook_attempts" WHERE EXISTS (SELECT 1 FROM "webhook_deliveries" AS d WHERE d."endpoint_id" = "webhook_attempts"."endpoint_id" AND d."seq" = "webhook_attempts"."seq" AND d."state" <> 'pending' AND d."finished_at" < \#(bind: before))"#
        ).run()
        try await sql.delete(from: "webhook_deliveries").where("state", .notEqual, WebhookDeliveryState.pending.rawValue)
            .where("finished_at", .lessThan, before).run()
    }

    // MARK: Attempts

    private struct AttemptRow: Codable {
        var endpointId: String
        var seq: Int
        var attempt: Int
        var at: Int
        var status: Int?
        var latencyMs: Int
        var error: String?
        var response: String?
    }

    /// The number the next attempt at a delivery takes.
    package func nextAttemptNumber(endpointID: String, seq: Int) async throws -> Int {
        let row = try await sql.raw(
            #"SELECT MAX("attempt") AS "last" FROM "webhook_attempts" WHERE "endpoint_id" = \#(bind: endpointID) AND "seq" = \#(bind: seq)"#
        ).first()
        guard let row, try !row.decodeNil(column: "last") else { return 1 }
        return try row.decode(column: "last", as: Int.self) + 1
    }

    /// Records an attempt; one numbered alike by an attempt running at once elsewhere is kept, not this one.
    package func record(_ attempt: WebhookAttemptRecord) async throws {
        try await sql.insert(into: "webhook_attempts")
            .columns("endpoint_id", "seq", "attempt", "at", "status", "latency_ms", "error", "response")
            .values(
                SQLBind(attempt.endpointID), SQLBind(attempt.seq), SQLBind(attempt.attempt), SQLBind(attempt.at), SQLBind(attempt.status),
                SQLBind(attempt.latencyMs), SQLBind(attempt.error), SQLBind(attempt.response)
            ).ignoringConflicts(with: ["endpoint_id", "seq", "attempt"]).run()
    }

    /// The attempts at an endpoint's deliveries of `seqs`, oldest first.
    package func attempts(endpointID: String, seqs: [Int]) async throws -> [WebhookAttemptRecord] {
        guard !seqs.isEmpty else { return [] }
        return try await sql.select().column("*").from("webhook_attempts").where("endpoint_id", .equal, endpointID)
            .where("seq", .in, seqs).orderBy("seq").orderBy("attempt")
            .all(decoding: AttemptRow.self, with: SQLValues.decoder).map {
                WebhookAttemptRecord(
                    endpointID: $0.endpointId, seq: $0.seq, attempt: $0.attempt, at: $0.at, status: $0.status, latencyMs: $0.latencyMs,
                    error: $0.error, response: $0.response)
            }
    }
}
