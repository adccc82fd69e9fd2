import Foundation
import NIOHTTP1
import VouchKit

/// Runs a simulated fleet against a Vouch server: sets up a group (and the policy, if given),
/// registers the fleet's firmware, enrolls every machine with its own key, lets them report for a
/// warm-up, then makes the chosen fraction misbehave and reads back, for every machine, its trust
/// score, its signals, the responses taken and its state.
public struct FleetSimulator: Sendable {
    public let plan: SimulationPlan
    public let clock: any SimulationClock
    /// Progress lines, for people.
    public let progress: @Sendable (String) -> Void

    public init(plan: SimulationPlan, clock: any SimulationClock = WallClock(), progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.plan = plan
        self.clock = clock
        self.progress = progress
    }

    public func run() async throws -> SimulationReport {
        try plan.validate()
        guard let host = plan.server.host else { throw SimulationError("--server has no host") }
        let port = plan.server.port ?? 80
        var plan = plan
        if plan.anomalies[.newAddress, default: 0] > 0, plan.anomalyAddress == nil {
            guard host == "localhost" || host.hasPrefix("127.") else {
                throw SimulationError("the new-address anomaly needs --anomaly-address: a local address other than the usual one to connect to \(host) from")
            }
            plan.anomalyAddress = "127.0.0.2"
        }
        let admin = try await SimulationConnection.open(host: host, port: port, from: nil)
        defer { Task { await admin.close() } }
        let started = Date()

        // The group, the policy and the firmware registry.
        if let policy = plan.policy {
            let answer = try await admin.send(.PUT, "/v1/admin/policy", body: Array(policy.utf8), contentType: "application/yaml", bearer: plan.apiKey)
            guard answer.status == 200 || answer.status == 201 else {
                let problems = (answer.json["problems"]?.arrayValue ?? []).compactMap { $0["message"]?.stringValue.map { "  \($0)" } }
                throw SimulationError(
                    (["the policy was refused (HTTP \(answer.status)): \(answer.json["detail"]?.stringValue ?? answer.text.prefix(200).description)"] + problems)
                        .joined(separator: "\n"))
            }
        }
        var random = SeededGenerator(seed: plan.seed)
        let tag = String(format: "%08x", UInt32.random(in: 0...UInt32.max, using: &random)) + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
        let group = "sim-\(tag)"
        let created = try await admin.send(.POST, "/v1/admin/groups", json: [
            "name": .string(group), "unlimitedTokenUses": true, "defaultZone": .string(plan.zone),
            "defaultRoles": .array(plan.roles.map(JSONValue.string)),
        ], bearer: plan.apiKey)
        guard created.status == 201, let claimToken = created.json["claimToken"]?.stringValue else {
            throw SimulationError("creating the enrollment group failed (HTTP \(created.status)): \(created.json["detail"]?.stringValue ?? created.text.prefix(200).description)")
        }
        let good = try FirmwareMeasurement(image: Data("vouch simulated firmware \(tag) 1.0".utf8), version: "1.0")
        let swapped = try FirmwareMeasurement(image: Data("unknown firmware \(tag)".utf8), version: "6.6.6")
        let registered = try await admin.send(.POST, "/v1/admin/firmware", json: [
            "model": .string(plan.model), "version": "1.0", "sha256": .string(good.sha256),
        ], bearer: plan.apiKey)
        guard registered.status == 201 else {
            throw SimulationError("registering the fleet's firmware failed (HTTP \(registered.status)): \(registered.json["detail"]?.stringValue ?? "")")
        }

        // Who misbehaves, and how: drawn from the seed.
        var order = Array(0..<plan.devices)
        order.shuffle(using: &random)
        var assigned: [Anomaly?] = Array(repeating: nil, count: plan.devices)
        var next = 0
        for kind in Anomaly.allCases {
            let count = Int((plan.anomalies[kind, default: 0] * Double(plan.devices)).rounded())
            for _ in 0..<count where next < order.count {
                assigned[order[next]] = kind
                next += 1
            }
        }
        let firstTick = clock.now
        let anomalyStart = firstTick.addingTimeInterval(plan.warmUp)
        let context = SimulationContext(
            plan: plan, host: host, port: port, clock: clock, group: group, claimToken: claimToken, goodFirmware: good, swappedFirmware: swapped,
            anomalyStart: anomalyStart)
        let machines = (0..<plan.devices).map { index in
            SimulatedMachine(index: index, anomaly: assigned[index], rate: plan.rate * Double.random(in: 0.5...1.5, using: &random), context: context)
        }
        defer { Task { for machine in machines { await machine.close() } } }

        progress("enrolling \(plan.devices) devices into group \(group) (model \(plan.model), zone \(plan.zone), roles \(plan.roles.joined(separator: ", ")))")
        try await forEach(machines) { try await $0.enroll() }
        var ids: [String] = []
        for machine in machines { ids.append(await machine.id) }
        for (index, machine) in machines.enumerated() { await machine.setVictim(ids[(index + 1) % ids.count]) }

        // Reporting, minute after minute; the anomalies start after the warm-up.
        let end = anomalyStart.addingTimeInterval(plan.anomalyDuration)
        var tick = firstTick
        var announced = false
        var lastMinute = -1
        while tick < end {
            try await clock.sleep(until: tick)
            if !announced, tick >= anomalyStart {
                announced = true
                let counts = Anomaly.allCases.compactMap { kind -> String? in
                    let count = assigned.filter { $0 == kind }.count
                    return count > 0 ? "\(kind.rawValue) \(count)" : nil
                }
                progress("anomalies start: \(counts.isEmpty ? "none" : counts.joined(separator: ", "))")
            }
            try await forEach(machines) { await $0.tick() }
            let minute = Int(tick.timeIntervalSince(firstTick) / 60)
            if minute != lastMinute {
                lastMinute = minute
                var sent = 0
                var accepted = 0
                for machine in machines {
                    let tally = await machine.tally
                    sent += tally.sent
                    accepted += tally.accepted
                }
                progress("minute \(minute + 1): \(sent) envelopes sent, \(accepted) accepted")
            }
            tick = tick.addingTimeInterval(plan.interval)
        }
        try await clock.sleep(until: end)
        // The responder works after the answers; give it a moment to finish.
        try await Task.sleep(for: .seconds(2))

        progress("reading trust scores")
        // A fresh connection: the first may have been closed while idle.
        let reader = try await SimulationConnection.open(host: host, port: port, from: nil)
        defer { Task { await reader.close() } }
        func read(_ path: String) async throws -> JSONValue {
            let answer = try await reader.send(.GET, path, bearer: plan.apiKey)
            guard answer.status == 200 else {
                throw SimulationError("reading \(path) failed (HTTP \(answer.status)): \(answer.json["detail"]?.stringValue ?? answer.text.prefix(200).description)")
            }
            return answer.json
        }
        var outcomes: [SimulationReport.Outcome] = []
        for (index, machine) in machines.enumerated() {
            let trust = try await read("/v1/devices/\(ids[index])/trust")
            let device = try await read("/v1/admin/devices/\(ids[index])")
            let signals = (trust["signals"]?.arrayValue ?? []).map { signal in
                SimulationReport.Signal(
                    kind: signal["kind"]?.stringValue ?? "", firstSeen: signal["firstSeen"]?.intValue ?? 0,
                    contribution: signal["contribution"]?.numberValue ?? 0)
            }
            let events = (device["history"]?.arrayValue ?? []).filter { ($0["actor"]?.stringValue ?? "").hasPrefix("monitor:") }
            let tally = await machine.tally
            outcomes.append(SimulationReport.Outcome(
                id: ids[index], anomaly: assigned[index], score: trust["score"]?.intValue ?? 100, explanation: trust["explanation"]?.stringValue ?? "",
                signals: signals, responses: events.compactMap { $0["kind"]?.stringValue }, state: device["device"]?["state"]?.stringValue ?? "unknown",
                sent: tally.sent, accepted: tally.accepted, refused: tally.refused, steppedUp: tally.steppedUp, failures: tally.failures,
                lastFailure: tally.lastFailure))
        }
        return SimulationReport(
            anomalyStart: Int(anomalyStart.timeIntervalSince1970), simulatedSeconds: end.timeIntervalSince(firstTick),
            wallSeconds: Date().timeIntervalSince(started), group: group, outcomes: outcomes)
    }

    /// Runs `body` for every machine, `plan.concurrency` at a time.
    private func forEach(_ machines: [SimulatedMachine], _ body: @escaping @Sendable (SimulatedMachine) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            var iterator = machines.makeIterator()
            for _ in 0..<max(1, plan.concurrency) {
                guard let machine = iterator.next() else { break }
                tasks.addTask { try await body(machine) }
            }
            while try await tasks.next() != nil {
                if let machine = iterator.next() { tasks.addTask { try await body(machine) } }
            }
        }
    }
}
