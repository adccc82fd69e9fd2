import Benchmark
import Foundation
import Synchronization
import VouchCore
import VouchKit

/// The monitoring update, per accepted message (`policy-ratios.sh` prints it, target < 5 µs):
/// `FleetMonitor.record` as telemetry ingest calls it (a message, its bytes, a connection, the
/// source address), over 10,000 devices that each send six messages a simulated minute, so that
/// minutes turn (baselines and cohorts folded, limits recomputed) as often as they would; with
/// the policy's thresholds and response rules in force. Beside it, in the same run, the floor of
/// any per-device counter: a dictionary update under a lock.
func monitoringBenchmarks() {
    Benchmark(
        "monitoring baseline: a per-device counter under a lock",
        configuration: configuration(operations: .mega, maxIterations: 20)
    ) { (benchmark: Benchmark, fixture: MonitoringFixture) in
        for index in benchmark.scaledIterations {
            fixture.count(index)
        }
    } setup: {
        MonitoringFixture()
    }

    Benchmark(
        "monitoring update: FleetMonitor.record per accepted message, 10,000 devices",
        configuration: configuration(operations: .mega, maxIterations: 20)
    ) { (benchmark: Benchmark, fixture: MonitoringFixture) in
        var orders = 0
        for index in benchmark.scaledIterations {
            orders += fixture.record(index)
        }
        blackHole(orders)
    } setup: {
        MonitoringFixture()
    }
}

/// A fleet's identities, profiles and addresses, and a clock that gives each device six messages
/// a minute.
final class MonitoringFixture: Sendable {
    static let devices = 10_000
    let monitor: FleetMonitor
    let ids: [String]
    let profiles: [DeviceProfile]
    let addresses: [IPAddress]
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    /// Seconds between two messages of the fleet.
    let step = 60.0 / Double(MonitoringFixture.devices * 6)
    let counters = Mutex<[String: Int]>([:])
    let operations = Atomic(0)

    init() {
        let rules = MonitoringRules(
            thresholds: [MonitoringRules.Threshold(name: "chatty", metric: .messages, window: .minute, above: 600, groups: ["sensors"])],
            responses: [
                try! MonitoringRules.Response(name: "quarantine", parsing: "when signal == signature.forged or score < 40 then quarantine"),
                try! MonitoringRules.Response(name: "watch", parsing: "when score < 80 then alert"),
            ])
        monitor = FleetMonitor(rules: rules)
        ids = (0..<Self.devices).map { "dev_\(String($0, radix: 16))" }
        profiles = (0..<Self.devices).map { DeviceProfile(group: $0 % 2 == 0 ? "sensors" : "cameras", zone: "line-3", model: "t\($0 % 4)") }
        addresses = (0..<Self.devices).map { IPAddress("10.\($0 / 65_536 % 256).\($0 / 256 % 256).\($0 % 256)")! }
    }

    func record(_ index: Int) -> Int {
        // Each benchmark iteration continues where the last left off, so time only moves forward.
        let tick = operations.wrappingAdd(1, ordering: .relaxed).oldValue
        let device = index % Self.devices
        var observation = Observation(source: addresses[device], connection: true)
        observation.count(.messages)
        observation.count(.bytes, 60 + UInt32(tick % 40))
        return monitor.record(observation, device: ids[device], profile: profiles[device], at: start.addingTimeInterval(Double(tick) * step)).count
    }

    func count(_ index: Int) {
        let device = ids[index % Self.devices]
        counters.withLock { $0[device, default: 0] += 1 }
    }
}
