import Benchmark
import Foundation
import VouchCore
import VouchKit

/// What monitoring holds per device, in bytes of resident memory: `FleetMonitor` in process, fed
/// as the server feeds it (a telemetry batch or an authentication per device per minute, from one
/// source address), for a device seen once and for one seen every minute for an hour and a half
/// (its windows, baselines, limits and trust history all in use). Every device is then forgotten,
/// as a revocation or decommissioning forgets it, and none may be left.
func monitoringMemoryBenchmark() {
    let devices = 50_000
    for (label, minutes) in [("seen once", 1), ("seen every minute for 90 minutes", 90)] {
        let metric = BenchmarkMetric.custom("bytes per device", useScalingFactor: false)
        Benchmark(
            "scale: monitoring memory per device, \(label)",
            configuration: Benchmark.Configuration(
                metrics: [metric], warmupIterations: 0, scalingFactor: .one, maxDuration: .seconds(120), maxIterations: 1)
        ) { benchmark in
            let monitor = FleetMonitor()
            let ids = (0..<devices).map { "dev_\(String(format: "%026d", $0))" }
            let profiles = (0..<16).map { DeviceProfile(group: "grp_fleet", zone: "zone-\($0)", model: "sensor-v2") }
            let source = IPAddress("10.20.30.40")
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            let before = residentBytes()
            for minute in 0..<minutes {
                let now = start.addingTimeInterval(Double(minute) * 60 + 1)
                for (index, id) in ids.enumerated() {
                    var observation = Observation(source: source, connection: true)
                    observation.count(.messages, 10)
                    observation.count(.bytes, 1_800)
                    blackHole(monitor.record(observation, device: id, profile: profiles[index % 16], at: now))
                }
            }
            let after = residentBytes()
            require(monitor.deviceCount == devices, "the monitor holds \(monitor.deviceCount) devices, not \(devices)")
            benchmark.measurement(metric, (after - before) / devices)
            for id in ids { monitor.forget(id) }
            require(monitor.deviceCount == 0, "\(monitor.deviceCount) devices are still held after being forgotten")
        }
    }
}

/// The process's resident set in bytes, from /proc (`field`: VmRSS, or RssAnon for the part no
/// file backs, which mapped database pages are not in).
func residentBytes(_ field: String = "VmRSS") -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
        let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    else { fatalError("no \(field) in /proc/self/status") }
    return kilobytes * 1024
}
