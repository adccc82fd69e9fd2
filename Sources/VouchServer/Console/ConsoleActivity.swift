import Foundation
import VouchCore
import VouchKit
import VouchStore

/// What the overview shows over time, kept by following the events table (the spine every
/// follower reads): enrollments in each of the last 24 hours, and the alerts no operator has
/// answered yet. It reads only the events committed since it last looked, so an overview costs the
/// same in a fleet of any size; the first look reads the last 24 hours once.
actor ConsoleActivity {
    /// Something monitoring did about a device that an operator has not answered yet.
    struct Alert: Sendable {
        var device: String
        var seq: Int
        var at: Int
        /// What fired: `monitor.alert`, `monitor.step-up`, or the lifecycle event it caused.
        var kind: String
        /// The rule, its score and the kinds of signal (the device's trust report has the details).
        var summary: String
    }

    private let store: Store
    /// The last event read; nil until the first look. Looks may overlap (the actor takes another
    /// call at each wait for the database): `applied` makes each event count once whichever look
    /// reads it, and `last` only moves forward.
    private var last: Int?
    private var applied = 0
    /// Enrollments by hour (hours since the Unix epoch).
    private var enrollments: [Int: Int] = [:]
    private var alerts: [String: Alert] = [:]
    /// The most alerts held: past it, the oldest go (the events keep them all).
    static let alertLimit = 10_000

    init(store: Store) {
        self.store = store
    }

    /// Enrollments in each of the last 24 hours, oldest first, and the open alerts, newest first.
    func snapshot(now: Date) async throws -> (enrollments: [(hour: Int, count: Int)], alerts: [Alert]) {
        try await catchUp(now: now)
        let hour = Int(now.timeIntervalSince1970) / 3600
        enrollments = enrollments.filter { $0.key > hour - 24 }
        return ((hour - 23...hour).map { ($0, enrollments[$0] ?? 0) }, alerts.values.sorted { $0.seq > $1.seq })
    }

    /// The open alert about one device, if there is one.
    func alert(about device: String, now: Date) async throws -> Alert? {
        try await catchUp(now: now)
        return alerts[device]
    }

    private func catchUp(now: Date) async throws {
        var after: Int
        if let last {
            after = last
        } else {
            after = try await firstOfLastDay(now: now)
        }
        while true {
            let from = after
            let events = try await store.read { try await $0.events.after(from, limit: 1_000) }
            for event in events { take(event) }
            guard let newest = events.last?.seq else { break }
            after = newest
            if events.count < 1_000 { break }
        }
        last = max(last ?? 0, after)
    }

    /// The sequence number just before the first event of the last 24 hours: found by halving,
    /// reading one event by its number at each step (events are committed in time order).
    private func firstOfLastDay(now: Date) async throws -> Int {
        let since = Int(now.timeIntervalSince1970) - 24 * 3600
        var low = 0
        var high = try await store.read { try await $0.counters.current(.events) }
        // Invariant: every event up to `low` is older than `since`; the answer is in low...high.
        while low < high {
            let middle = low + (high - low + 1) / 2
            let at = try await store.read { try await $0.events.numbered([middle]) }.first?.at ?? Int.min
            if at < since { low = middle } else { high = middle - 1 }
        }
        return low
    }

    private func take(_ event: EventRecord) {
        guard event.seq > applied else { return }
        applied = event.seq
        switch event.eventKind {
        case .deviceEnrolled:
            enrollments[event.at / 3600, default: 0] += 1
        case .monitorAlert, .monitorStepUp:
            open(event)
        case .deviceQuarantined, .deviceSuspended, .deviceRevoked, .deviceReleased, .deviceReinstated, .deviceDecommissioned, .deviceApproved:
            if event.actor.hasPrefix("monitor:") {
                open(event)
            } else {
                // An operator acted on the device: what monitoring raised has been looked at.
                alerts[event.subject] = nil
            }
        default:
            break
        }
    }

    private func open(_ event: EventRecord) {
        let data = (try? event.data()) ?? .null
        let rule = data["rule"]?.stringValue ?? String(event.actor.dropFirst("monitor:".count))
        let score = data["score"]?.numberValue.map { String(Int($0)) } ?? "?"
        let signals = data["signals"]?.arrayValue.compactMap(\.stringValue).joined(separator: ", ") ?? ""
        alerts[event.subject] = Alert(
            device: event.subject, seq: event.seq, at: event.at, kind: event.kind,
            summary: "rule \(rule): score \(score)" + (signals.isEmpty ? "" : ", signals \(signals)"))
        if alerts.count > Self.alertLimit, let oldest = alerts.values.min(by: { $0.seq < $1.seq }) {
            alerts[oldest.device] = nil
        }
    }
}
