import Foundation

/// What a simulation found: for every device, its anomaly (if any), trust score, signals, the
/// automated responses recorded against it and its state at the end.
public struct SimulationReport: Sendable {
    public struct Signal: Sendable, Hashable {
        public let kind: String
        /// When it was first raised (seconds since 1970, simulated time).
        public let firstSeen: Int
        public let contribution: Double
    }

    public struct Outcome: Sendable {
        public let id: String
        public let anomaly: Anomaly?
        public let score: Int
        public let explanation: String
        public let signals: [Signal]
        /// Events recorded by response rules (`device.quarantined`, `monitor.alert`, `monitor.step-up`…).
        public let responses: [String]
        public let state: String
        public let sent: Int
        public let accepted: Int
        public let refused: [String: Int]
        public let steppedUp: Int
        public let failures: Int
        public let lastFailure: String?

        /// Seconds from the start of anomalies to the first signal raised after it, if any.
        func detection(after start: Int) -> Int? {
            signals.map(\.firstSeen).filter { $0 >= start }.min().map { $0 - start }
        }
    }

    /// When anomalies started (seconds since 1970, simulated time).
    public let anomalyStart: Int
    public let simulatedSeconds: Double
    public let wallSeconds: Double
    public let group: String
    public let outcomes: [Outcome]

    /// Devices given `anomaly` (nil: the well-behaved ones).
    public func devices(_ anomaly: Anomaly?) -> [Outcome] { outcomes.filter { $0.anomaly == anomaly } }

    /// The share of the devices given `anomaly` on which a signal was raised within `seconds` of
    /// the anomalies' start.
    public func recall(_ anomaly: Anomaly, within seconds: Int = 120) -> Double {
        let devices = devices(anomaly)
        guard !devices.isEmpty else { return 1 }
        return Double(devices.filter { ($0.detection(after: anomalyStart) ?? .max) <= seconds }.count) / Double(devices.count)
    }

    /// The share of well-behaved devices on which any signal was raised.
    public var falsePositiveRate: Double {
        let normal = devices(nil)
        guard !normal.isEmpty else { return 0 }
        return Double(normal.filter { !$0.signals.isEmpty }.count) / Double(normal.count)
    }

    /// The share of well-behaved devices' messages the server accepted.
    public var normalAcceptance: Double {
        let normal = devices(nil)
        let sent = normal.map(\.sent).reduce(0, +)
        return sent == 0 ? 1 : Double(normal.map(\.accepted).reduce(0, +)) / Double(sent)
    }

    /// How many of `devices` ended in `state`.
    public func count(_ devices: [Outcome], state: String) -> Int { devices.filter { $0.state == state }.count }

    /// How many of `devices` had a response recorded that produced `event`.
    public func count(_ devices: [Outcome], response event: String) -> Int { devices.filter { $0.responses.contains(event) }.count }

    /// The report as a table, with one explained example per anomaly.
    public func rendered() -> String {
        var lines: [String] = []
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
        func lpad(_ text: String, _ width: Int) -> String { text.count >= width ? text : String(repeating: " ", count: width - text.count) + text }
        lines.append(
            pad("anomaly", 15) + lpad("devices", 8) + lpad("found", 7) + lpad("recall", 8) + lpad("median", 8) + lpad("quarantined", 13)
                + lpad("step-up", 9) + lpad("alerted", 9) + "  signals")
        for anomaly in Anomaly.allCases {
            let devices = devices(anomaly)
            guard !devices.isEmpty else { continue }
            let times = devices.compactMap { $0.detection(after: anomalyStart) }.sorted()
            let found = devices.filter { $0.detection(after: anomalyStart) != nil }.count
            let median = times.isEmpty ? "-" : "\(times[times.count / 2]) s"
            var kinds: [String: Int] = [:]
            for device in devices { for signal in device.signals { kinds[signal.kind, default: 0] += 1 } }
            let common = kinds.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(3).map(\.key).joined(separator: ", ")
            lines.append(
                pad(anomaly.rawValue, 15) + lpad("\(devices.count)", 8) + lpad("\(found)", 7) + lpad(String(format: "%.2f", recall(anomaly)), 8)
                    + lpad(median, 8) + lpad("\(count(devices, state: "quarantined"))", 13) + lpad("\(count(devices, response: "monitor.step-up"))", 9)
                    + lpad("\(count(devices, response: "monitor.alert"))", 9) + "  " + common)
        }
        let normal = devices(nil)
        let flagged = normal.filter { !$0.signals.isEmpty }.count
        lines.append(
            pad("none", 15) + lpad("\(normal.count)", 8) + lpad("\(flagged)", 7) + lpad("-", 8) + lpad("-", 8)
                + lpad("\(count(normal, state: "quarantined"))", 13) + lpad("\(count(normal, response: "monitor.step-up"))", 9)
                + lpad("\(count(normal, response: "monitor.alert"))", 9))
        lines.append("")
        lines.append(String(
            format: "false-positive rate %.3f; well-behaved devices' messages accepted %.4f; %.0f s simulated in %.0f s",
            falsePositiveRate, normalAcceptance, simulatedSeconds, wallSeconds))
        let steppedUp = outcomes.filter { $0.steppedUp > 0 }.count
        if steppedUp > 0 { lines.append("\(steppedUp) device(s) asked to step up attested known-good firmware and went on") }
        let failures = outcomes.map(\.failures).reduce(0, +)
        if failures > 0, let example = outcomes.first(where: { $0.lastFailure != nil }) {
            lines.append("\(failures) request(s) failed; for example \(example.id): \(example.lastFailure ?? "")")
        }
        lines.append("")
        for anomaly in Anomaly.allCases {
            guard let example = devices(anomaly).first(where: { !$0.signals.isEmpty }) else { continue }
            lines.append("\(anomaly.rawValue): \(example.id) is \(example.state), trust \(example.explanation)")
        }
        return lines.joined(separator: "\n")
    }
}
