import Foundation
import HummingbirdTesting
import Testing
import VouchKit
import VouchSimulation

/// The policy of the simulation (and of the README's demo): sensors publish their own telemetry;
/// forged telemetry, unknown firmware or a low score quarantine; a device that moves must step up.
let simulationPolicyYAML = """
    roles:
      sensor:
        allow: ["publish:telemetry/${device.id}/#"]
    monitoring:
      weights: {policy.denied: 35}
      responses:
        - when signal == signature.forged or signal == firmware.unknown or score < 40 then quarantine
        - {name: moved, when: signal == address.new, then: step-up}
        - {name: watch, when: score < 80, then: alert}
    """

@Suite("A simulated fleet")
struct FleetSimulationTests {
    /// 500 devices, 5% given each anomaly, five minutes of normal behaviour then two and a half of
    /// misbehaviour, on a virtual clock shared by the simulator and the server: real HTTP on a
    /// socket, real signatures, the real detectors and responder.
    @Test func misbehavingDevicesAreFoundExplainedAndQuarantined() async throws {
        let clock = VirtualClock()
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live, rateLimitPerMinute: 10_000_000, clock: { clock.now }) { client, admin, _ in
                let port = try #require(client.port)
                let plan = SimulationPlan(
                    server: try #require(URL(string: "http://127.0.0.1:\(port)")), apiKey: admin, devices: 500, rate: 4,
                    anomalies: Dictionary(uniqueKeysWithValues: Anomaly.allCases.map { ($0, 0.05) }), seed: 42, warmUp: 300, anomalyDuration: 150,
                    policy: simulationPolicyYAML)
                let report = try await FleetSimulator(plan: plan, clock: clock).run()
                print(report.rendered())
                for device in report.devices(nil) where !device.signals.isEmpty {
                    print("flagged: \(device.id) \(device.state) \(device.explanation) \(device.signals) \(device.refused) sent \(device.sent)")
                }

                for anomaly in Anomaly.allCases {
                    #expect(report.devices(anomaly).count == 25)
                    #expect(report.recall(anomaly, within: 120) >= 0.95, "\(anomaly.rawValue): recall \(report.recall(anomaly, within: 120))")
                }
                #expect(report.falsePositiveRate <= 0.01, "false positives: \(report.devices(nil).filter { !$0.signals.isEmpty }.map(\.explanation))")

                // The responses the policy asks for: quarantine for forgery, unknown firmware and
                // sustained misbehaviour; a step-up for a device that moved; nothing for the rest.
                for anomaly in [Anomaly.forged, .firmwareSwap, .burst, .replay, .outOfPolicy] {
                    let devices = report.devices(anomaly)
                    let quarantined = report.count(devices, state: "quarantined")
                    #expect(Double(quarantined) >= 0.95 * Double(devices.count), "\(anomaly.rawValue): \(quarantined) of \(devices.count) quarantined")
                }
                let moved = report.devices(.newAddress)
                #expect(Double(report.count(moved, response: "monitor.step-up")) >= 0.95 * Double(moved.count))
                #expect(report.count(moved, state: "quarantined") == 0)
                // …and, refused at their next batch, they attest their firmware and go on.
                #expect(Double(moved.filter { $0.steppedUp > 0 }.count) >= 0.95 * Double(moved.count))
                let normal = report.devices(nil)
                #expect(report.count(normal, state: "quarantined") == 0)
                #expect(normal.allSatisfy { $0.state == "active" })
                #expect(report.normalAcceptance >= 0.999, "well-behaved devices' messages accepted: \(report.normalAcceptance)")
                #expect(report.outcomes.map(\.failures).reduce(0, +) == 0, "\(report.outcomes.compactMap(\.lastFailure).prefix(3))")

                // Each quarantine is explained: the forged devices' scores name the signal.
                let forged = try #require(report.devices(.forged).first)
                #expect(forged.explanation.contains("signature.forged"))
                #expect(forged.signals.contains { $0.kind == "signature.forged" })
                #expect(report.devices(.burst).allSatisfy { device in device.signals.contains { $0.kind.hasSuffix(".messages") } })
            }
        }
    }
}
