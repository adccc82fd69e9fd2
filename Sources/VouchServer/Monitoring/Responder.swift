import Foundation
import Logging
import ServiceLifecycle
import VouchCore
import VouchKit
import VouchStore

/// Carries out what the response rules order: events for alerts and dry runs, a step-up asked of
/// the device, or a lifecycle action (quarantine, suspend, revoke) whose event names the rule, the
/// score and the signals that caused it.
struct Responder: Service {
    let responses: ResponseQueue
    let lifecycle: LifecycleService
    let store: Store
    let events: EventRecorder
    let logger: Logger

    func run() async throws {
        await withGracefulShutdownHandler {
            for await order in responses.orders {
                await carryOut(order)
                responses.done()
            }
        } onGracefulShutdown: {
            responses.finish()
        }
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
                    try await events.record(session, kind: .monitorDryRun, subject: order.device, actor: actor, data: data)
                }
                return
            }
            if order.action != .alert {
                let state = try await store.read { try await $0.devices.find(id: order.device) }?.state
                guard let state, state.mayAct else {
                    // Recorded, so that an operator sees the rule fired and why nothing was done.
                    guard let state else { return }
                    try await store.transaction { session in
                        try await events.record(session, kind: .monitorSkipped, subject: order.device, actor: actor, data: data.merging([
                            "state": .string(state.rawValue), "why": .string("a \(state.rawValue) device cannot act; only an operator changes it"),
                        ]) { $1 })
                    }
                    return
                }
            }
            switch order.action {
            case .alert:
                try await store.transaction { session in
                    try await events.record(session, kind: .monitorAlert, subject: order.device, actor: actor, data: data)
                }
            case .stepUp:
                try await store.transaction { session in
                    guard try await session.devices.find(id: order.device) != nil else { return }
                    try await session.stepUps.require(deviceID: order.device, at: events.clock.seconds, cause: "\(order.rule): \(order.trigger.rawValue)")
                    try await events.record(session, kind: .monitorStepUp, subject: order.device, actor: actor, data: data)
                }
            case .quarantine, .suspend, .revoke:
                let action: LifecycleAction = order.action == .quarantine ? .quarantine : order.action == .suspend ? .suspend : .revoke
                let state = try await store.read { try await $0.devices.find(id: order.device) }?.state
                guard let state, case .success = DeviceLifecycle.transition(from: state, on: action) else {
                    logger.debug("response skipped: the device's state does not allow it", metadata: [
                        "device.id": "\(order.device)", "monitor.rule": "\(order.rule)", "monitor.action": "\(order.action.rawValue)",
                    ])
                    return
                }
                _ = try await lifecycle.apply(action, to: order.device, reason: nil, actor: actor, cause: data)
            }
            logger.notice("automated response", metadata: [
                "device.id": "\(order.device)", "monitor.rule": "\(order.rule)", "monitor.action": "\(order.action.rawValue)",
                "trust.score": "\(order.score)", "signal.kind": "\(order.trigger.rawValue)",
            ])
        } catch {
            logger.error("automated response failed", metadata: [
                "device.id": "\(order.device)", "monitor.rule": "\(order.rule)", "monitor.action": "\(order.action.rawValue)", "error": "\(error)",
            ])
        }
    }
}
