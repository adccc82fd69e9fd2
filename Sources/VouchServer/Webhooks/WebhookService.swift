import Foundation
import Logging
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

/// How webhooks are delivered: the retry schedule, when a failing endpoint is disabled, deadlines,
/// and whether private addresses may be endpoints.
public struct WebhookSettings: Sendable, Hashable {
    /// Waits before each retry, after the first attempt: eight attempts in all by default, the
    /// last about 33 hours after the first.
    public var schedule: [Duration] = [.seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18_000), .seconds(36_000), .seconds(36_000)]
    /// Each wait is spread by up to this fraction either way, so that endpoints coming back do not
    /// get every retry at once.
    public var jitter: Double = 0.1
    /// An endpoint whose every attempt has failed for this long is disabled (and an event says so).
    public var disableAfter: Duration = .seconds(86_400)
    public var connectTimeout: Duration = .seconds(5)
    /// From the request's start to the answer's status line.
    public var answerTimeout: Duration = .seconds(15)
    /// Private, loopback and link-local endpoints are refused unless this is set (on-premise fleets).
    public var allowPrivate = false
    /// How long finished deliveries and their attempts are kept.
    public var retention: Duration = .seconds(7 * 86_400)

    public init() {}

    /// Reads a schedule written as waits separated by commas, each a number with s, m or h
    /// (`5s,5m,30m,2h,5h,10h,10h`): 1 to 20 waits, each from 10 ms to 2 days.
    public static func schedule(parsing text: String) throws -> [Duration] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard (1...20).contains(parts.count) else { throw ScheduleError(description: "a retry schedule is 1 to 20 waits separated by commas, such as 5s,5m,30m,2h") }
        return try parts.map { part in
            let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
            guard let (suffix, factor) = units.first(where: { part.hasSuffix($0.0) && Double(part.dropLast($0.0.count)) != nil }),
                let number = Double(part.dropLast(suffix.count)), number.isFinite, number >= 0
            else {
                throw ScheduleError(description: "\(part.prefix(32)) is not a wait: write a number followed by ms, s, m or h")
            }
            let seconds = number * factor
            guard seconds >= 0.01, seconds <= 172_800 else { throw ScheduleError(description: "\(part) is outside 10ms to 48h") }
            return .milliseconds(Int64((seconds * 1000).rounded()))
        }
    }

    public struct ScheduleError: Error, CustomStringConvertible {
        public var description: String
    }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int {
        Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000)
    }
}

/// Webhook endpoints and their deliveries: made, changed, listed and tested by operators; the
/// outbox is worked by `WebhookDispatcher`.
final class WebhookService: Sendable {
    let store: Store
    let events: EventRecorder
    let settings: WebhookSettings
    let sender: WebhookSender
    /// The authority's key for `v1a` signatures; its public key is published.
    let signingKey: StandardWebhook.AsymmetricKey
    let publicURL: String
    let logger: Logger

    /// Wakes the dispatcher: commits (forwarded), redeliveries and replays.
    let wake = Pulse()

    /// The most endpoints an authority keeps: each reads the events table as it goes.
    static let endpointLimit = 100

    init(store: Store, events: EventRecorder, settings: WebhookSettings, signingKey: StandardWebhook.AsymmetricKey, publicURL: String, logger: Logger) {
        self.store = store
        self.events = events
        self.settings = settings
        self.signingKey = signingKey
        self.publicURL = publicURL
        self.logger = logger
        sender = WebhookSender(allowPrivate: settings.allowPrivate, connectTimeout: settings.connectTimeout, answerTimeout: settings.answerTimeout)
    }

    var clock: ServerClock { events.clock }
    var nowMs: Int { Int(clock.now.timeIntervalSince1970 * 1000) }

    // MARK: Endpoints

    /// Kinds an endpoint keeps: exact kinds or prefixes such as `device.*`, at most 32.
    static func checkedKinds(_ kinds: [String]) throws -> [String] {
        guard kinds.count <= 32 else { throw ServiceError.invalidRequest("give at most 32 event kinds") }
        for entry in kinds {
            guard EventKind.isPattern(entry) else {
                throw ServiceError.invalidRequest(
                    "\(entry.prefix(64)) is not an event kind (lower-case letters, dots and dashes, such as device.revoked) or a prefix such as device.*")
            }
        }
        return Array(Set(kinds)).sorted()
    }

    func checkedURL(_ url: String) throws -> String {
        if let problem = WebhookSender.problem(with: url, allowPrivate: settings.allowPrivate) {
            throw ServiceError.invalidRequest(problem)
        }
        return url
    }

    static func checkedDescription(_ text: String) throws -> String {
        guard text.utf8.count <= 256, !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ServiceError.invalidRequest("a description is at most 256 bytes with no control characters")
        }
        return text
    }

    /// Registers an endpoint; it gets the events committed from now on. The secret is returned once.
    func create(_ request: WebhookRequest, actor: String) async throws -> (WebhookEndpointRecord, secret: String) {
        guard let url = request.url else { throw ServiceError.invalidRequest("url is required") }
        let checkedURL = try checkedURL(url)
        let kinds = try Self.checkedKinds(request.kinds ?? [])
        let description = try Self.checkedDescription(request.description ?? "")
        let secret = StandardWebhook.Secret.generate().serialized
        let now = clock.seconds
        let id = Secrets.identifier("wh", now: clock.now)
        let record = try await store.transaction { session in
            guard try await session.webhooks.count() < Self.endpointLimit else {
                throw ServiceError.conflict("this authority has \(Self.endpointLimit) webhook endpoints, the most it keeps; remove one first")
            }
            let cursor = try await session.counters.current(.events)
            let record = WebhookEndpointRecord(
                id: id, url: checkedURL, description: description, kinds: kinds, enabled: request.enabled ?? true, signV1a: request.signV1a ?? false,
                secret: secret, cursor: cursor, createdAt: now, updatedAt: now)
            try await session.webhooks.insert(record)
            // The URL and description are for operators, not the public log.
            try await self.events.record(session, kind: .webhookCreated, subject: id, actor: actor, data: ["kinds": .array(kinds.map { .string($0) })])
            return record
        }
        return (record, secret)
    }

    func list() async throws -> [WebhookEndpointRecord] {
        try await store.read { try await $0.webhooks.endpoints() }
    }

    func endpoint(_ id: String) async throws -> WebhookEndpointRecord {
        guard let record = try await store.read({ try await $0.webhooks.endpoint(id) }) else {
            throw ServiceError.notFound("no webhook endpoint \(id.prefix(64))")
        }
        return record
    }

    func view(_ record: WebhookEndpointRecord, counts: [WebhookDeliveryState: Int]? = nil) -> WebhookView {
        WebhookView(
            id: record.id, url: record.url, description: record.description, kinds: record.kinds, enabled: record.enabled, signV1a: record.signV1a,
            previousSecretUntil: record.previousSecretUntil.flatMap { $0 > clock.seconds ? $0 : nil }, cursor: record.cursor,
            failingSince: record.failingSince.map { $0 / 1000 }, disabledReason: record.disabledReason, createdAt: record.createdAt,
            updatedAt: record.updatedAt, pending: counts.map { $0[.pending] ?? 0 }, delivered: counts.map { $0[.delivered] ?? 0 },
            failed: counts.map { $0[.failed] ?? 0 })
    }

    func counts(_ id: String) async throws -> [WebhookDeliveryState: Int] {
        try await store.read { try await $0.webhooks.counts(endpointID: id) }
    }

    /// Changes an endpoint; a rotated secret is returned once, and the one it replaces stays valid
    /// (deliveries carry both signatures) for the grace period.
    func update(_ id: String, _ request: WebhookRequest, actor: String) async throws -> (WebhookEndpointRecord, secret: String?) {
        let url = try request.url.map(checkedURL)
        let kinds = try request.kinds.map(Self.checkedKinds)
        let description = try request.description.map(Self.checkedDescription)
        if let grace = request.graceSeconds, !(0...604_800).contains(grace) {
            throw ServiceError.invalidRequest("graceSeconds must be 0 to 604800 (a week)")
        }
        if request.graceSeconds != nil, request.rotateSecret != true {
            throw ServiceError.invalidRequest("graceSeconds goes with rotateSecret: true")
        }
        let secret = request.rotateSecret == true ? StandardWebhook.Secret.generate().serialized : nil
        let now = clock.seconds
        let record = try await store.transaction { session in
            guard var record = try await session.webhooks.endpoint(id, forUpdate: true) else {
                throw ServiceError.notFound("no webhook endpoint \(id.prefix(64))")
            }
            var changed: [String] = []
            if let url, url != record.url { record.url = url; changed.append("url") }
            if let kinds, kinds != record.kinds { record.kinds = kinds; changed.append("kinds") }
            if let description, description != record.description { record.description = description; changed.append("description") }
            if let signV1a = request.signV1a, signV1a != record.signV1a { record.signV1a = signV1a; changed.append("signV1a") }
            if let enabled = request.enabled, enabled != record.enabled {
                record.enabled = enabled
                changed.append("enabled")
                if enabled {
                    // Enabled again: the failures that disabled it are forgotten.
                    record.disabledReason = nil
                    record.failingSince = nil
                }
            }
            if let secret {
                let grace = request.graceSeconds ?? 86_400
                record.previousSecret = grace > 0 ? record.secret : nil
                record.previousSecretUntil = grace > 0 ? now + grace : nil
                record.secret = secret
                changed.append("secret")
            }
            guard !changed.isEmpty else { return record }
            record.updatedAt = now
            try await session.webhooks.update(record)
            try await self.events.record(
                session, kind: .webhookUpdated, subject: id, actor: actor,
                data: ["changed": .array(changed.map { .string($0) }), "enabled": .bool(record.enabled)])
            return record
        }
        return (record, secret)
    }

    func remove(_ id: String, actor: String) async throws {
        try await store.transaction { session in
            guard try await session.webhooks.delete(id) else { throw ServiceError.notFound("no webhook endpoint \(id.prefix(64))") }
            try await self.events.record(session, kind: .webhookRemoved, subject: id, actor: actor)
        }
    }

    // MARK: Deliveries

    func deliveries(_ id: String, before: Int?, limit: Int) async throws -> [WebhookDeliveryView] {
        _ = try await endpoint(id)
        return try await store.read { session in
            let deliveries = try await session.webhooks.deliveries(endpointID: id, before: before, limit: limit)
            let attempts = Dictionary(grouping: try await session.webhooks.attempts(endpointID: id, seqs: deliveries.map(\.seq)), by: \.seq)
            let events = Dictionary(uniqueKeysWithValues: try await session.events.numbered(deliveries.map(\.seq)).map { ($0.seq, $0) })
            return deliveries.map { delivery in
                WebhookDeliveryView(
                    id: Self.messageID(endpointID: id, seq: delivery.seq), seq: delivery.seq, type: events[delivery.seq]?.kind ?? "",
                    state: delivery.state.rawValue, attempts: delivery.attempts,
                    nextAttemptAt: delivery.state == .pending ? RFC3339.format(Date(timeIntervalSince1970: Double(delivery.nextAt) / 1000)) : nil,
                    finishedAt: delivery.finishedAt.map { RFC3339.format(Date(timeIntervalSince1970: Double($0) / 1000)) },
                    attemptLog: (attempts[delivery.seq] ?? []).map {
                        WebhookAttemptView(
                            attempt: $0.attempt, at: RFC3339.format(Date(timeIntervalSince1970: Double($0.at) / 1000)), status: $0.status,
                            latencyMs: $0.latencyMs, error: $0.error, response: $0.response)
                    })
            }
        }
    }

    /// Queues one delivery again now, from the start of the schedule.
    func redeliver(_ id: String, seq: Int, actor: String) async throws {
        let now = nowMs
        try await store.transaction { session in
            guard try await session.webhooks.endpoint(id, forUpdate: true) != nil else {
                throw ServiceError.notFound("no webhook endpoint \(id.prefix(64))")
            }
            guard let delivery = try await session.webhooks.delivery(endpointID: id, seq: seq) else {
                throw ServiceError.notFound("endpoint \(id.prefix(64)) has no delivery of event \(seq); replay from it to deliver an event it never had")
            }
            guard delivery.state != .pending || delivery.nextAt > now else { return }
            var queued = delivery
            queued.state = .pending
            queued.tries = 0
            queued.nextAt = now
            queued.finishedAt = nil
            try await session.webhooks.save(queued)
        }
        wake.pulse()
    }

    /// Delivers every event from `from` on again (those its filters keep), including events from
    /// before the endpoint existed.
    func replay(_ id: String, from: Int, actor: String) async throws -> Int {
        let now = nowMs
        let newest = try await store.transaction { session in
            guard try await session.webhooks.endpoint(id, forUpdate: true) != nil else {
                throw ServiceError.notFound("no webhook endpoint \(id.prefix(64))")
            }
            let newest = try await session.counters.current(.events)
            guard from <= newest + 1 else { throw ServiceError.conflict("event \(from) is past the newest, \(newest)") }
            try await session.webhooks.requeue(endpointID: id, from: from, at: now)
            try await session.webhooks.rewind(id, to: from - 1)
            return newest
        }
        wake.pulse()
        return max(0, newest - from + 1)
    }

    /// Sends a `webhook.test` message to the endpoint now and returns how it answered; nothing is
    /// queued or retried.
    func test(_ id: String) async throws -> WebhookTestResult {
        let record = try await endpoint(id)
        let timestamp = clock.seconds
        let body = JSONValue.object([
            "type": .string("webhook.test"), "timestamp": .string(RFC3339.format(Date(timeIntervalSince1970: Double(timestamp)))),
            "data": .object(["endpoint": .string(record.id), "authority": .string(publicURL)]),
        ]).canonicalJSON
        let messageID = "test_" + Base64URL.encode(SecureRandom.bytes(12))
        let outcome = await sender.send(url: record.url, headers: try headers(record, messageID: messageID, timestamp: timestamp, body: body), body: body)
        return WebhookTestResult(
            id: messageID, status: outcome.status, delivered: outcome.succeeded && outcome.error == nil, latencyMs: outcome.latencyMs, error: outcome.error,
            response: outcome.excerpt)
    }

    // MARK: What goes out

    /// The `webhook-id` of an event's delivery to an endpoint: the same at every attempt, so
    /// receivers can drop repeats.
    static func messageID(endpointID: String, seq: Int) -> String {
        "\(endpointID)_\(seq)"
    }

    /// The body: `{"type", "timestamp", "data"}`, with the event's sequence number, subject, actor,
    /// data and its transparency-log entry.
    func body(of event: EventRecord) -> [UInt8] {
        let data = (try? event.data()) ?? .null
        return JSONValue.object([
            "type": .string(event.kind),
            "timestamp": .string(RFC3339.format(Date(timeIntervalSince1970: Double(event.at)))),
            "data": .object([
                "seq": .number(Double(event.seq)), "subject": .string(event.subject), "actor": .string(event.actor), "event": data,
                "logEntry": .string("\(publicURL)/v1/log/entries?start=\(event.seq - 1)&end=\(event.seq)"),
            ]),
        ]).canonicalJSON
    }

    /// The headers of one attempt: signed with the endpoint's secret, with the previous secret too
    /// during a rotation's grace period, and with the authority's Ed25519 key when the endpoint asks.
    func headers(_ endpoint: WebhookEndpointRecord, messageID: String, timestamp: Int, body: [UInt8]) throws -> [(String, String)] {
        var signatures = [StandardWebhook.signature(secret: try StandardWebhook.Secret(serialized: endpoint.secret), id: messageID, timestamp: timestamp, body: body)]
        if let previous = endpoint.previousSecret, let until = endpoint.previousSecretUntil, until > clock.seconds {
            signatures.append(StandardWebhook.signature(secret: try StandardWebhook.Secret(serialized: previous), id: messageID, timestamp: timestamp, body: body))
        }
        if endpoint.signV1a {
            signatures.append(try StandardWebhook.signature(key: signingKey, id: messageID, timestamp: timestamp, body: body))
        }
        return [
            ("content-type", "application/json"), ("user-agent", "Vouch-Webhooks/\(VouchVersion.current)"), ("webhook-id", messageID),
            ("webhook-timestamp", String(timestamp)), ("webhook-signature", signatures.joined(separator: " ")),
        ]
    }
}
