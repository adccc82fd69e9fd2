import Foundation
import Synchronization
import VouchKit

/// What is observed of every device, in memory, and what is concluded from it: counts over the
/// last minute, 5 minutes and hour; source addresses; adaptive baselines per device and per
/// cohort; the signals raised; the trust score and its history; and the response rules that fire.
///
/// Detection runs as counts arrive, with no timer: each device's limits are computed when its
/// minute turns (folding the closed minute into its baseline and its cohort's), and an update
/// compares the counts it touched with them. Devices are spread over shards, each behind its own
/// lock, so updates from several connections rarely wait for one another.
public final class FleetMonitor: Sendable {
    /// The source addresses remembered per device; the least recently seen is forgotten past it.
    public static let addressLimit = 32
    /// History points kept per device.
    public static let historyLimit = 120
    static let shardCount = 16
    /// A device's own baseline: settles at a 10-minute memory, used after 3 full minutes.
    static let deviceAlpha = 0.1
    static let deviceWarmUp = 3
    /// A cohort's baseline: every member's minutes are folded in, so it remembers more samples.
    static let cohortAlpha = 0.002
    static let cohortWarmUp = 30

    /// Windows and addresses of one device.
    public struct Activity: Sendable {
        public let windows: MetricWindows
        /// Source addresses, with the minute each was last seen.
        public let addresses: [IPAddress: Int]
    }

    private final class Shard: Sendable {
        let records = Mutex<[String: MonitoredDevice]>([:])
    }

    private final class Configuration: Sendable {
        let rules: MonitoringRules
        /// Thresholds by the metric they watch.
        let thresholds: [[MonitoringRules.Threshold]]

        init(_ rules: MonitoringRules) {
            self.rules = rules
            var thresholds = Array(repeating: [MonitoringRules.Threshold](), count: DeviceMetric.allCases.count)
            for threshold in rules.thresholds { thresholds[threshold.metric.rawValue].append(threshold) }
            self.thresholds = thresholds
        }
    }

    private let shards: [Shard]
    private let configuration: Mutex<Configuration>
    private let cohorts = Mutex<[String: [Baseline]]>([:])
    /// The most devices held at once (`deviceLimit`), per shard.
    private let shardLimit: Int
    private let evictions = Atomic<Int>(0)

    /// The default of `deviceLimit`: at about 1.6 KB a device, 1.6 GB at most.
    public static let defaultDeviceLimit = 1_000_000

    /// A monitor holding at most `deviceLimit` devices (at least one per shard): when a shard is
    /// full, a new device makes it drop a tenth of its devices, retired ones first, then those seen
    /// longest ago with nothing held against them, then the others seen longest ago. A dropped
    /// device starts again from its cohort's baseline when it is next seen.
    public init(rules: MonitoringRules = .standard, deviceLimit: Int = FleetMonitor.defaultDeviceLimit) {
        shards = (0..<Self.shardCount).map { _ in Shard() }
        configuration = Mutex(Configuration(rules))
        shardLimit = max(1, deviceLimit / Self.shardCount)
    }

    /// The most devices held at once.
    public var deviceLimit: Int { shardLimit * Self.shardCount }

    /// Signals raised since start, by kind.
    public var signalsRaised: [String: Int] { raisedCounts.withLock { $0 } }
    private let raisedCounts = Mutex<[String: Int]>([:])

    /// Signals raised in each of the last 24 hours, oldest first, ending with the hour of `date`
    /// (hours are counted from the Unix epoch, in UTC).
    public func signalsPerHour(endingAt date: Date) -> [(hour: Int, count: Int)] {
        let now = Int(date.timeIntervalSince1970) / 3600
        let hours = raisedHours.withLock { $0 }
        return (now - 23...now).map { hour in
            let slot = ((hour % 24) + 24) % 24
            return (hour, hours[slot].hour == hour ? hours[slot].count : 0)
        }
    }
    /// A ring of 24 hours: each slot holds the hour it counts and how many signals it saw.
    private let raisedHours = Mutex<[(hour: Int, count: Int)]>(Array(repeating: (-1, 0), count: 24))

    /// The devices held (not retired) whose trust score, rounded, is in `range` as of `date`, in id order.
    public func devices(scoring range: ClosedRange<Int>, at date: Date) -> [String] {
        let halfLife = rules.halfLife
        var found: [String] = []
        for shard in shards {
            found += shard.records.withLock { records in
                records.compactMap { id, record in
                    guard !record.retired else { return nil }
                    return range.contains(Int(MonitoredDevice.score(record.contributions(at: date, halfLife: halfLife)).rounded())) ? id : nil
                }
            }
        }
        return found.sorted()
    }

    /// How the trust scores of the devices held are spread, in ten bands of ten points (the last,
    /// 90–100, includes 100), as of `date`: devices retired (revoked, decommissioned) are left
    /// out, and devices never seen are not held (they score 100).
    public func scoreBands(at date: Date) -> [Int] {
        let halfLife = rules.halfLife
        var bands = Array(repeating: 0, count: 10)
        for shard in shards {
            let scores: [Double] = shard.records.withLock { records in
                records.values.compactMap { record in
                    record.retired ? nil : MonitoredDevice.score(record.contributions(at: date, halfLife: halfLife))
                }
            }
            for score in scores { bands[min(9, max(0, Int(score.rounded()) / 10))] += 1 }
        }
        return bands
    }

    /// Devices dropped to stay within `deviceLimit`, since start.
    public var evictedDevices: Int { evictions.load(ordering: .relaxed) }

    /// Puts new rules in force (a new policy version).
    public func configure(_ rules: MonitoringRules) {
        let next = Configuration(rules)
        configuration.withLock { $0 = next }
    }

    /// The rules in force.
    public var rules: MonitoringRules { configuration.withLock { $0 }.rules }

    public static func minute(_ date: Date) -> Int { Int((date.timeIntervalSince1970 / 60).rounded(.down)) }

    static func date(minute: Int) -> Date { Date(timeIntervalSince1970: Double(minute) * 60) }

    private func shard(_ device: String) -> Shard {
        var hasher = Hasher()
        hasher.combine(device)
        return shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(Self.shardCount))]
    }

    private func withRecord<T>(_ device: String, _ profile: DeviceProfile, at date: Date, _ body: (inout MonitoredDevice, Configuration) -> T) -> T {
        let configuration = configuration.withLock { $0 }
        let minute = Self.minute(date)
        return shard(device).records.withLock { records in
            if records[device] == nil {
                if records.count >= shardLimit { evict(from: &records) }
                records[device] = MonitoredDevice(profile: profile, minute: minute)
                records[device]!.judgeByCohort(configuration.rules, cohorts: cohorts)
            } else if records[device]!.retired {
                // Nothing more is recorded: not even the minutes that pass.
                return body(&records[device]!, configuration)
            } else if records[device]!.profile != profile {
                records[device]!.profile = profile
                records[device]!.judgeByCohort(configuration.rules, cohorts: cohorts)
            }
            records[device]!.roll(to: minute, configuration.rules, cohorts: cohorts)
            let result = body(&records[device]!, configuration)
            // The signals `body` raised, counted by kind.
            if !records[device]!.newlyRaised.isEmpty {
                let raised = records[device]!.newlyRaised
                records[device]!.newlyRaised.removeAll()
                raisedCounts.withLock { counts in
                    for kind in raised { counts[kind.rawValue, default: 0] += 1 }
                }
                let hour = Int(date.timeIntervalSince1970) / 3600
                raisedHours.withLock { hours in
                    let slot = ((hour % 24) + 24) % 24
                    if hours[slot].hour != hour { hours[slot] = (hour, 0) }
                    hours[slot].count += raised.count
                }
            }
            return result
        }
    }

    /// Counts what a request showed, raises the signals it warrants, and returns the responses
    /// the rules ask for.
    public func record(_ observation: Observation, device: String, profile: DeviceProfile, at date: Date) -> [ResponseOrder] {
        withRecord(device, profile, at: date) { record, configuration in
            guard !record.retired else { return [] }
            return record.observe(observation, device: device, at: date, configuration.rules, thresholds: configuration.thresholds)
        }
    }

    /// Raises a signal found elsewhere (a firmware report), counting `metric` with it, and returns
    /// the responses it brings.
    public func raise(
        _ kind: SignalKind, detail: String, counting metric: DeviceMetric? = nil, device: String, profile: DeviceProfile, at date: Date
    ) -> [ResponseOrder] {
        withRecord(device, profile, at: date) { record, configuration in
            guard !record.retired else { return [] }
            if let metric { record.windows.add(metric, minute: record.windows.minute) }
            guard record.raise(kind, detail: detail, at: date, configuration.rules) else { return [] }
            return record.respond(device: device, trigger: kind, detail: detail, at: date, configuration.rules)
        }
    }

    /// Forgets the device's signals and fired responses: an operator has looked and released it.
    public func release(_ device: String, at date: Date, cause: String) {
        let halfLife = rules.halfLife
        shard(device).records.withLock { records in
            guard records[device] != nil else { return }
            records[device]!.signals = [:]
            records[device]!.fired = []
            records[device]!.note(cause, at: date, halfLife: halfLife)
        }
    }

    /// Drops a tenth of a full shard's devices: retired ones first, then those seen longest ago
    /// (by the minute their windows last moved to) with no signal or fired response, then the
    /// others seen longest ago. Two passes over the shard and no sort: a cut-off minute is found
    /// from counts per minute.
    private func evict(from records: inout [String: MonitoredDevice]) {
        var wanted = max(1, records.count / 10)
        var dropped = 0
        func rank(_ record: MonitoredDevice) -> Int { record.retired ? 0 : (record.signals.isEmpty && record.fired.isEmpty ? 1 : 2) }
        for tier in 0...2 where wanted > 0 {
            var perMinute: [Int: Int] = [:]
            for record in records.values where rank(record) == tier { perMinute[record.windows.minute, default: 0] += 1 }
            guard !perMinute.isEmpty else { continue }
            var cutoff = Int.min
            var covered = 0
            for (minute, count) in perMinute.sorted(by: { $0.key < $1.key }) {
                cutoff = minute
                covered += count
                if covered >= wanted { break }
            }
            let before = records.count
            records = records.filter { rank($0.value) != tier || $0.value.windows.minute > cutoff }
            let removed = before - records.count
            dropped += removed
            wanted -= removed
        }
        evictions.add(dropped, ordering: .relaxed)
    }

    /// Marks the device out of service: nothing more is recorded for it, its trust report stays
    /// readable, and it is the first dropped when the monitor needs room.
    public func retire(_ device: String) {
        shard(device).records.withLock { records in
            records[device]?.retired = true
        }
    }

    /// Drops everything held on the device at once.
    public func forget(_ device: String) {
        _ = shard(device).records.withLock { $0.removeValue(forKey: device) }
    }

    /// How many devices the monitor holds.
    public var deviceCount: Int {
        shards.reduce(0) { total, shard in total + shard.records.withLock { $0.count } }
    }

    /// The device's windows and addresses as of `date`, if it has been seen.
    public func activity(of device: String, at date: Date) -> Activity? {
        let minute = Self.minute(date)
        return shard(device).records.withLock { records in
            guard let record = records[device] else { return nil }
            var windows = record.windows
            windows.advance(to: minute)
            return Activity(windows: windows, addresses: record.addresses)
        }
    }

    /// The device's trust score and its explanation as of `date`; a device never observed
    /// scores 100 with nothing to explain.
    public func trust(of device: String, at date: Date) -> TrustReport {
        let halfLife = rules.halfLife
        let record = shard(device).records.withLock { $0[device] }
        return record?.report(device: device, at: date, halfLife: halfLife)
            ?? TrustReport(
                device: device, score: 100, at: Int(date.timeIntervalSince1970), halfLifeSeconds: Int(halfLife), signals: [], history: [],
                responses: [], explanation: "100: nothing observed against the device")
    }

    /// The baselines of a cohort (`model/group`), in the order of ``SignalKind/adaptiveMetrics``.
    public func cohortBaselines(_ cohort: String) -> [Baseline]? { cohorts.withLock { $0[cohort] } }

    /// The device's own baselines, in the order of ``SignalKind/adaptiveMetrics``.
    public func baselines(of device: String) -> [Baseline]? { shard(device).records.withLock { $0[device]?.baselines } }
}
