import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import VouchCore
import VouchKit
import VouchStore

extension DeviceDirectory.Entry {
    /// What monitoring compares the device by: its group, zone (quarantine while quarantined) and model.
    var profile: DeviceProfile {
        DeviceProfile(group: facts.group, zone: facts.quarantined ? ZoneRules.quarantineZone : facts.zone, model: facts.attributes["model"] ?? "")
    }
}

/// Response orders waiting for the responder: the detectors run inside request handlers and never
/// wait for the database; the `Responder` service carries the orders out, one at a time.
final class ResponseQueue: Sendable {
    let orders: AsyncStream<ResponseOrder>
    private let continuation: AsyncStream<ResponseOrder>.Continuation

    init() {
        // A burst of signals across a fleet must not grow memory without bound: past 100,000
        // orders waiting, the oldest are dropped, and each drop is logged as an error.
        (orders, continuation) = AsyncStream.makeStream(of: ResponseOrder.self, bufferingPolicy: .bufferingNewest(100_000))
    }

    /// Queues `orders`; returns those dropped to make room.
    func submit(_ orders: [ResponseOrder]) -> [ResponseOrder] {
        var dropped: [ResponseOrder] = []
        for order in orders {
            if case .dropped(let old) = continuation.yield(order) { dropped.append(old) }
        }
        return dropped
    }

    func finish() { continuation.finish() }
}

/// Carries out what the response rules order: events for alerts and dry runs, a step-up asked of
/// the device, or a lifecycle action (quarantine, suspend, revoke) whose event names the rule, the
/// score and the signals that caused it.
struct Responder: Service {
    let authority: Authority

    func run() async throws {
        await withGracefulShutdownHandler {
            for await order in authority.responses.orders {
                await authority.carryOut(order)
            }
        } onGracefulShutdown: {
            authority.responses.finish()
        }
    }
}

extension Authority {
    /// Feeds what a request showed of a device into monitoring, and queues the responses it brings.
    func observe(_ observation: Observation, of entry: DeviceDirectory.Entry) {
        let orders = monitor.record(observation, device: entry.row.id, profile: entry.profile, at: now)
        if !orders.isEmpty { queue(orders) }
    }

    private func queue(_ orders: [ResponseOrder]) {
        for lost in responses.submit(orders) {
            logger.error("response queue full: an automated response was dropped", metadata: [
                "device": "\(lost.device)", "rule": "\(lost.rule)", "action": "\(lost.action.rawValue)",
            ])
        }
    }

    /// Raises a signal found outside the request counts (a firmware verdict), counting `metric`.
    func raise(_ kind: SignalKind, detail: String, counting metric: DeviceMetric, of entry: DeviceDirectory.Entry) {
        let orders = monitor.raise(kind, detail: detail, counting: metric, device: entry.row.id, profile: entry.profile, at: now)
        if !orders.isEmpty { queue(orders) }
    }

    /// Counts a refused authentication against the device the proof names, if it is one of ours
    /// (the proof's signature did not hold, so the name is only a claim: it weighs little, and
    /// unknown names are not remembered).
    func noteFailedAuthentication(proof: String) async {
        guard let jws = try? CompactJWS(parsing: proof), let claimed = try? JSONValue(parsing: jws.payload)["deviceId"]?.stringValue,
            claimed.utf8.count <= 128, let entry = (try? await directoryEntry(claimed)) ?? nil
        else { return }
        observe(.counting(.authFailures), of: entry)
    }

    /// The cause of an automated action, as its event records it. Events go to the public
    /// transparency log, so the detectors' own words (which name source addresses, for one) stay
    /// out: the rule, the score and the kinds of signal are published; the details are in the
    /// device's trust report, which only operators and the device read.
    static func cause(of order: ResponseOrder) -> [String: JSONValue] {
        [
            "rule": .string(order.rule), "condition": .string(order.condition), "score": .number(Double(order.score)),
            "trigger": .string(order.trigger.rawValue), "signals": .array(order.signals.map { .string($0.rawValue) }),
        ]
    }

    /// Carries out one response order. A device that cannot act (pending, suspended, revoked,
    /// decommissioned) is left as it is: a response never grants more than the device had, and
    /// only an operator lifts a hold. An action the device's state no longer allows (already
    /// quarantined) is skipped too; other failures are logged, never retried in a loop.
    func carryOut(_ order: ResponseOrder) async {
        let actor = "monitor:\(order.rule)"
        let data = Self.cause(of: order).merging(["action": .string(order.action.rawValue)]) { $1 }
        do {
            if order.dryRun {
                try await store.transaction { session in
                    try await self.record(session, kind: "monitor.dry-run", subject: order.device, actor: actor, data: data)
                }
                return
            }
            if order.action != .alert {
                let state = try await store.read { try await $0.device(id: order.device) }.flatMap { DeviceState(rawValue: $0.state) }
                guard let state, Self.actingStates.contains(state) else {
                    // Recorded, so that an operator sees the rule fired and why nothing was done.
                    guard let state else { return }
                    try await store.transaction { session in
                        try await self.record(session, kind: "monitor.skipped", subject: order.device, actor: actor, data: data.merging([
                            "state": .string(state.rawValue), "why": .string("a \(state.rawValue) device cannot act; only an operator changes it"),
                        ]) { $1 })
                    }
                    return
                }
            }
            switch order.action {
            case .alert:
                try await store.transaction { session in
                    try await self.record(session, kind: "monitor.alert", subject: order.device, actor: actor, data: data)
                }
            case .stepUp:
                try await store.transaction { session in
                    guard try await session.device(id: order.device) != nil else { return }
                    try await session.requireStepUp(deviceID: order.device, at: self.nowSeconds, cause: "\(order.rule): \(order.trigger.rawValue)")
                    try await self.record(session, kind: "monitor.step-up", subject: order.device, actor: actor, data: data)
                }
            case .quarantine, .suspend, .revoke:
                let action: LifecycleAction = order.action == .quarantine ? .quarantine : order.action == .suspend ? .suspend : .revoke
                let state = try await store.read { try await $0.device(id: order.device) }.flatMap { DeviceState(rawValue: $0.state) }
                guard let state, case .success = DeviceLifecycle.transition(from: state, on: action) else {
                    logger.debug("response skipped: the device's state does not allow it", metadata: [
                        "device": "\(order.device)", "rule": "\(order.rule)", "action": "\(order.action.rawValue)",
                    ])
                    return
                }
                _ = try await apply(action, to: order.device, reason: nil, actor: actor, cause: data)
            }
            logger.notice("automated response", metadata: [
                "device": "\(order.device)", "rule": "\(order.rule)", "action": "\(order.action.rawValue)", "score": "\(order.score)",
                "trigger": "\(order.trigger.rawValue)",
            ])
        } catch {
            logger.error("automated response failed", metadata: [
                "device": "\(order.device)", "rule": "\(order.rule)", "action": "\(order.action.rawValue)", "error": "\(error)",
            ])
        }
    }

    /// The device's trust score and its explanation.
    func trust(of id: String) async throws -> TrustReport {
        guard try await directoryEntry(id) != nil else { throw APIError.notFound("no device with id \(id.prefix(64))") }
        return monitor.trust(of: id, at: now)
    }
}
