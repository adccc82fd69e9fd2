import Foundation
import VouchAPI
import VouchCore
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
        let adminLink = SimulationLink(host: host, port: port)
        var admin = VouchClient(transport: adminLink, credential: .apiKey(plan.apiKey))
        admin.headers = [("Prefer", "return=minimal")]
        let started = Date()

        // The group, the policy and the firmware registry.
        if let policy = plan.policy {
            do {
                _ = try await admin.uploadPolicy(policy)
            } catch let error as VouchClientError where error.code == .refused {
                let problems = (error.problem?.problems ?? []).compactMap { $0["message"]?.stringValue.map { "  \($0)" } }
                throw SimulationError((["the policy was refused: \(error.reason)"] + problems).joined(separator: "\n"))
            }
        }
        var random = SeededGenerator(seed: plan.seed)
        let tag = String(format: "%08x", UInt32.random(in: 0...UInt32.max, using: &random)) + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
        let group = "sim-\(tag)"
        let claimToken: String
        do {
            let created = try await admin.createGroup(GroupRequest(name: group, unlimitedTokenUses: true, defaultZone: plan.zone, defaultRoles: plan.roles))
            guard let token = created.claimToken else { throw SimulationError("the new enrollment group \(group) came without a claim token") }
            claimToken = token
        } catch let error as VouchClientError {
            throw SimulationError("creating the enrollment group failed: \(error.reason)")
        }
        let good = try FirmwareMeasurement(image: Data("vouch simulated firmware \(tag) 1.0".utf8), version: "1.0")
        let swapped = try FirmwareMeasurement(image: Data("unknown firmware \(tag)".utf8), version: "6.6.6")
        do {
            _ = try await admin.registerFirmware(FirmwareRegistration(model: plan.model, version: "1.0", sha256: good.sha256))
        } catch let error as VouchClientError {
            throw SimulationError("registering the fleet's firmware failed: \(error.reason)")
        }
        await adminLink.close()

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

        progress("enrolling \(plan.devices) devices into group \(group) (model \(plan.model), zone \(plan.zone), roles \(plan.roles.joined(separator: ", ")))")
        try await forEach(machines) { try await $0.enroll() }
        var ids: [String] = []
        for machine in machines { ids.append(await machine.id) }
        for (index, machine) in machines.enumerated() { await machine.setVictim(ids[(index + 1) % ids.count]) }

        // Reporting, minute after minute; the anomalies start after the warm-up.
        let readerLink = SimulationLink(host: host, port: port)
        let reader = admin.withTransport(readerLink)
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
            // The responder works after the answers; on a virtual clock, time must not run ahead of
            // it (in real time a tick is seconds, and it acts in milliseconds).
            try await waitForResponder(reader)
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
        // The responder works after the answers: wait until it has carried out every order.
        try await waitForResponder(reader)

        progress("reading trust scores")
        var outcomes: [SimulationReport.Outcome] = []
        for (index, machine) in machines.enumerated() {
            let trust: TrustReport
            let device: DeviceDetail
            do {
                trust = try await reader.trust(of: ids[index])
                device = try await reader.device(ids[index])
            } catch let error as VouchClientError {
                throw SimulationError("reading device \(ids[index]) failed: \(error.reason)")
            }
            let signals = trust.signals.map { SimulationReport.Signal(kind: $0.kind, firstSeen: $0.firstSeen, contribution: $0.contribution) }
            let events = device.history.filter { $0.actor.hasPrefix("monitor:") }
            let tally = await machine.tally
            outcomes.append(SimulationReport.Outcome(
                id: ids[index], anomaly: assigned[index], score: trust.score, explanation: trust.explanation,
                signals: signals, responses: events.map(\.kind), state: device.device.state,
                sent: tally.sent, accepted: tally.accepted, refused: tally.refused, steppedUp: tally.steppedUp, failures: tally.failures,
                lastFailure: tally.lastFailure))
        }
        await readerLink.close()
        for machine in machines { await machine.close() }
        return SimulationReport(
            anomalyStart: Int(anomalyStart.timeIntervalSince1970), simulatedSeconds: end.timeIntervalSince(firstTick),
            wallSeconds: Date().timeIntervalSince(started), group: group, outcomes: outcomes)
    }

    /// Waits until the server's responder has carried out every order it was given.
    private func waitForResponder(_ reader: VouchClient) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await reader.metric("vouch_responses_pending") ?? 0 > 0 {
            guard ContinuousClock.now < deadline else { throw SimulationError("the server's responder did not catch up within 60 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
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
