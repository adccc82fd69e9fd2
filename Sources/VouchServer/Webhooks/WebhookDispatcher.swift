import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import VouchCore
import VouchKit
import VouchStore

/// Works the webhook outbox until the server shuts down.
///
/// Each pass queues, for every enabled endpoint, the events after its cursor that its filters
/// keep, moving the cursor in the same transaction (so a restart, even after `SIGKILL`, neither
/// loses nor doubles a delivery: at least once). Then it attempts what is due, each endpoint in its
/// own lane, so a slow or dead endpoint delays only itself. An attempt first claims its delivery
/// (moving its due time past the attempt's deadline), so nodes sharing a database do not both
/// send it; a node that dies mid-attempt leaves the delivery to be attempted again once the claim
/// runs out. A commit that records events wakes the dispatcher at once.
struct WebhookDispatcher: Service {
    let webhooks: WebhookService

    /// Deliveries an endpoint's lane takes at a time, and events read per endpoint per pass.
    static let laneBatch = 50
    static let queueBatch = 500

    func run() async throws {
        let store = webhooks.store
        let wake = webhooks.wake
        let busy = Lanes()
        if store.database.engine == .sqlite {
            // This process holds the database: a claim found now was left by one that was killed.
            do {
                let released = try await store.write { try await $0.webhooks.releaseClaims(at: webhooks.nowMs) }
                if released > 0 {
                    webhooks.logger.info("took up webhook deliveries a stopped server was attempting", metadata: ["webhook.deliveries": "\(released)"])
                }
            } catch {
                webhooks.logger.error("giving back webhook claims failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    // Commits wake the dispatcher.
                    let commits = store.database.eventsCommitted
                    while !Task.isCancelled {
                        let beat = commits.beat
                        await commits.wait(after: beat, timeout: .seconds(60))
                        wake.pulse()
                    }
                }
                var lastPrune = ContinuousClock.now - .seconds(3600)
                while !Task.isCancelled {
                    let beat = wake.beat
                    var wait = Duration.seconds(1)
                    // Without endpoints there is nothing to deliver (deliveries go with their
                    // endpoint): a commit then costs the dispatcher one read.
                    var endpoints = true
                    do {
                        let queued = try await queue()
                        endpoints = queued.endpoints
                        if queued.more { wait = .milliseconds(5) }
                    } catch {
                        webhooks.logger.error("queueing webhook deliveries failed", metadata: ["error": "\(String(reflecting: error))"])
                    }
                    if endpoints {
                        do {
                            let now = webhooks.nowMs
                            // Each endpoint with something due gets a lane of its own, and at most one:
                            // a slow endpoint holds only its lane.
                            for endpointID in try await store.read({ try await $0.webhooks.dueEndpoints(now: now) }) {
                                guard busy.take(endpointID) else { continue }
                                group.addTask {
                                    var failed = false
                                    do {
                                        let due = try await store.read { try await $0.webhooks.due(endpointID: endpointID, now: now, limit: Self.laneBatch) }
                                        for delivery in due where !Task.isCancelled {
                                            if await !attempt(delivery) { failed = true }
                                        }
                                    } catch {
                                        failed = true
                                        webhooks.logger.error("reading a webhook endpoint's due deliveries failed", metadata: ["error": "\(String(reflecting: error))"])
                                    }
                                    // A database that fails is not asked again at once.
                                    if failed { try? await Task.sleep(for: .seconds(1)) }
                                    busy.give(endpointID)
                                    wake.pulse()
                                }
                            }
                            if let next = try await store.read({ try await $0.webhooks.nextDue() }), next > now {
                                wait = min(wait, .milliseconds(next - now))
                            }
                            if ContinuousClock.now - lastPrune > .seconds(600) {
                                lastPrune = .now
                                try await store.write { try await $0.webhooks.prune(finishedBefore: now - webhooks.settings.retention.milliseconds) }
                            }
                        } catch {
                            webhooks.logger.error("reading the webhook outbox failed", metadata: ["error": "\(String(reflecting: error))"])
                        }
                    }
                    await wake.wait(after: beat, timeout: max(wait, .milliseconds(5)))
                }
                group.cancelAll()
            }
        }
    }

    /// The endpoints whose lane is at work.
    final class Lanes: Sendable {
        private let busy = Mutex<Set<String>>([])
        func take(_ id: String) -> Bool { busy.withLock { $0.insert(id).inserted } }
        func give(_ id: String) { busy.withLock { _ = $0.remove(id) } }
    }

    /// Batches of events one endpoint's cursor moves through per pass, so that one catching up
    /// (after a replay, or enabled again) does not hold the others' deliveries back.
    static let batchesPerPass = 4

    /// Moves every enabled endpoint's cursor towards the newest event, queueing what its filters
    /// keep; true when some endpoint has more to look at.
    func queue() async throws -> (more: Bool, endpoints: Bool) {
        let store = webhooks.store
        let endpoints = try await store.read { try await $0.webhooks.endpoints() }
        guard !endpoints.isEmpty else { return (false, false) }
        let newest = try await store.read { try await $0.counters.current(.events) }
        var more = false
        for listed in endpoints where listed.enabled && listed.cursor < newest {
            for _ in 0..<Self.batchesPerPass where !Task.isCancelled {
                let now = webhooks.nowMs
                let moved = try await store.transaction { session -> Int? in
                    // The endpoint as it is now, locked: filters changed meanwhile apply to what is queued.
                    guard let endpoint = try await session.webhooks.endpoint(listed.id, forUpdate: true), endpoint.enabled else { return nil }
                    let events = try await session.events.summaries(after: endpoint.cursor, limit: Self.queueBatch)
                    guard let last = events.last?.seq else { return nil }
                    let kept = events.filter { endpoint.keeps(kind: $0.kind?.rawValue ?? "") }.map(\.seq)
                    // Moved by another node meanwhile: this pass leaves the endpoint to it.
                    guard try await session.webhooks.moveCursor(endpoint.id, from: endpoint.cursor, to: last) else { return nil }
                    try await session.webhooks.enqueue(endpointID: endpoint.id, seqs: kept, at: now)
                    return last
                }
                guard let moved else { break }
                if moved >= newest { break }
                more = true
            }
        }
        return (more, true)
    }

    /// One attempt at a due delivery: claimed, sent, and its outcome recorded with the delivery's
    /// next step and the endpoint's health, in one transaction.
    /// False when the database failed it.
    func attempt(_ delivery: WebhookDeliveryRecord) async -> Bool {
        let store = webhooks.store
        let settings = webhooks.settings
        do {
            // Resolution, connection, answer and its body, with room to spare: past it, another node may try.
            let hold = settings.connectTimeout.milliseconds + 2 * settings.answerTimeout.milliseconds + 10_000
            let claimedUntil = webhooks.nowMs + hold
            guard try await store.write({ try await $0.webhooks.claim(delivery, until: claimedUntil) }) else { return true }
            let found = try await store.read { session in
                (try await session.webhooks.endpoint(delivery.endpointID), try await session.events.numbered([delivery.seq]).first)
            }
            guard let endpoint = found.0, endpoint.enabled else {
                // Removed, or disabled meanwhile: the claim is given back (a disabled endpoint's
                // deliveries wait for it to be enabled again).
                try await store.write { session in
                    var waiting = delivery
                    waiting.nextAt = webhooks.nowMs
                    _ = try await session.webhooks.settle(waiting, claimedUntil: claimedUntil)
                }
                return true
            }
            let messageID = WebhookService.messageID(endpointID: endpoint.id, seq: delivery.seq)
            let outcome: WebhookSender.Outcome
            if let event = found.1 {
                let body = webhooks.body(of: event)
                let timestamp = webhooks.clock.seconds
                outcome = await webhooks.sender.send(
                    url: endpoint.url, headers: try webhooks.headers(endpoint, messageID: messageID, timestamp: timestamp, body: body), body: body)
            } else {
                outcome = WebhookSender.Outcome(latencyMs: 0, error: "event \(delivery.seq) is not in the events table")
            }
            if Task.isCancelled {
                // Shutting down mid-attempt: the delivery is attempted again after the restart.
                try? await store.write { session in
                    var waiting = delivery
                    waiting.nextAt = webhooks.nowMs
                    _ = try await session.webhooks.settle(waiting, claimedUntil: claimedUntil)
                }
                return true
            }
            try await record(outcome, of: delivery, endpointID: endpoint.id, claimedUntil: claimedUntil)
            return true
        } catch {
            webhooks.logger.error(
                "a webhook attempt failed to run", metadata: ["webhook.endpoint": "\(delivery.endpointID)", "event.seq": "\(delivery.seq)", "error": "\(String(reflecting: error))"])
            return false
        }
    }

    /// Whether an answer ends the delivery for good (a refusal retrying will not change).
    static func isFinal(_ outcome: WebhookSender.Outcome) -> Bool {
        guard let status = outcome.status else { return false }
        if (300..<400).contains(status) { return true }
        return (400..<500).contains(status) && ![408, 409, 429].contains(status)
    }

    func record(_ outcome: WebhookSender.Outcome, of delivery: WebhookDeliveryRecord, endpointID: String, claimedUntil: Int) async throws {
        let settings = webhooks.settings
        let now = webhooks.nowMs
        let succeeded = outcome.succeeded && outcome.error == nil
        var next = delivery
        next.tries += 1
        if succeeded {
            next.state = .delivered
            next.finishedAt = now
        } else if Self.isFinal(outcome) || next.tries > settings.schedule.count {
            next.state = .failed
            next.finishedAt = now
        } else {
            let scheduled = Double(settings.schedule[next.tries - 1].milliseconds)
            let spread = settings.jitter > 0 ? Double.random(in: -settings.jitter...settings.jitter) : 0
            let wait = outcome.retryAfter.map { $0 * 1000 } ?? Int(scheduled * (1 + spread))
            next.state = .pending
            next.nextAt = now + max(0, wait)
        }
        let saved = next
        let final = !succeeded && Self.isFinal(outcome)
        let disabled = try await webhooks.store.transaction { session -> Bool in
            // The endpoint first, as every other change of an endpoint and its deliveries locks them;
            // one removed meanwhile has nothing left to record.
            guard var endpoint = try await session.webhooks.endpoint(endpointID, forUpdate: true) else { return false }
            // Numbered from the record: a delivery queued again while attempted may be attempted twice at once.
            let number = try await session.webhooks.nextAttemptNumber(endpointID: endpointID, seq: delivery.seq)
            try await session.webhooks.record(
                WebhookAttemptRecord(
                    endpointID: endpointID, seq: delivery.seq, attempt: number, at: now, status: outcome.status, latencyMs: outcome.latencyMs,
                    error: outcome.error.map { String($0.prefix(512)) }, response: outcome.excerpt))
            var settled = saved
            settled.attempts = number
            if try await !session.webhooks.settle(settled, claimedUntil: claimedUntil) {
                // Queued again while it was attempted: the new request stands; the attempt still counts.
                try await session.webhooks.countAttempts(endpointID: endpointID, seq: delivery.seq, to: number)
            }
            if succeeded {
                guard endpoint.failingSince != nil else { return false }
                endpoint.failingSince = nil
                try await session.webhooks.update(endpoint)
                return false
            }
            // A refusal (4xx, a redirect) is an answer: the endpoint is up, and its health is left as it was.
            if final { return false }
            guard let since = endpoint.failingSince else {
                endpoint.failingSince = now
                try await session.webhooks.update(endpoint)
                return false
            }
            guard endpoint.enabled, now - since >= settings.disableAfter.milliseconds else { return false }
            let last = outcome.status.map { "HTTP \($0)" } ?? outcome.error ?? "no answer"
            endpoint.enabled = false
            endpoint.disabledReason = "every attempt failed for \(Self.describe(now - since)) (the last: \(last.prefix(200))); enable it again once it answers"
            endpoint.updatedAt = now / 1000
            try await session.webhooks.update(endpoint)
            try await webhooks.events.record(
                session, kind: .webhookDisabled, subject: endpointID, actor: "system",
                data: ["failingSince": .number(Double(since / 1000)), "lastStatus": outcome.status.map { .number(Double($0)) } ?? .null])
            return true
        }
        if disabled {
            webhooks.logger.warning("disabled a webhook endpoint that kept failing", metadata: ["webhook.endpoint": "\(endpointID)"])
        }
    }

    static func describe(_ milliseconds: Int) -> String {
        let seconds = milliseconds / 1000
        if seconds >= 7200 { return "\(seconds / 3600) hours" }
        if seconds >= 120 { return "\(seconds / 60) minutes" }
        return "\(seconds) seconds"
    }
}
