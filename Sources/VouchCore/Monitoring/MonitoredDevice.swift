import Foundation
import Synchronization
import VouchKit

/// One device, as the monitor holds it.
struct MonitoredDevice: Sendable {
    struct Raised: Sendable {
        var weight: Double
        /// Weight carried at `last`, before fading.
        var strength: Double
        var count: Int
        var first: Date
        var last: Date
        var minute: Int
        var detail: String
    }

    var windows: MetricWindows
    var addresses: [IPAddress: Int] = [:]
    var profile: DeviceProfile
    /// The first minute seen: partial, so not folded into baselines.
    let firstMinute: Int
    var baselines: [Baseline]
    /// Per adaptive metric: the device's limit, then the cohort's (infinite until warm).
    var limits: [Double]
    var signals: [SignalKind: Raised] = [:]
    /// Signals raised since `FleetMonitor` last counted them (it empties this under the same lock).
    var newlyRaised: [SignalKind] = []
    /// The usual message size: a moving average over the minutes that had messages.
    var messageSize = 0.0
    var history: [TrustReport.Point] = []
    var fired: Set<String> = []
    /// Revoked or decommissioned: nothing more is recorded, and the record is the first dropped
    /// when room is needed (its trust report stays readable until then).
    var retired = false

    init(profile: DeviceProfile, minute: Int) {
        windows = MetricWindows(minute: minute)
        self.profile = profile
        firstMinute = minute
        baselines = SignalKind.adaptiveMetrics.map { _ in Baseline(alpha: FleetMonitor.deviceAlpha, warmUp: FleetMonitor.deviceWarmUp) }
        limits = Array(repeating: .infinity, count: 2 * SignalKind.adaptiveMetrics.count)
    }

    /// Closes the minutes before `minute`: folds their counts into the device's baselines and its
    /// cohort's, and computes the limits the new minute is judged by.
    mutating func roll(to minute: Int, _ rules: MonitoringRules, cohorts: borrowing Mutex<[String: [Baseline]]>) {
        guard minute > windows.minute else { return }
        if !fired.isEmpty { rearm(at: FleetMonitor.date(minute: minute), rules) }
        let closedMinute = windows.minute
        let idle = min(minute - closedMinute - 1, 60)
        let metrics = SignalKind.adaptiveMetrics
        let closed = metrics.map { Double(windows.lastMinute($0)) }
        windows.advance(to: minute)
        guard closedMinute != firstMinute || idle > 0 else { return }
        for index in metrics.indices {
            if closedMinute != firstMinute { baselines[index].add(closed[index]) }
            for _ in 0..<idle { baselines[index].add(0) }
        }
        if let messages = metrics.firstIndex(of: .messages), let bytes = metrics.firstIndex(of: .bytes), closed[messages] > 0 {
            let size = closed[bytes] / closed[messages]
            messageSize = messageSize == 0 ? size : messageSize + 0.2 * (min(size, 3 * messageSize) - messageSize)
        }
        for (index, limit) in Baseline.limits(baselines, rules.deviceSensitivity, messageSize: messageSize).enumerated() { limits[index] = limit }
        let cohort = profile.cohort
        let cohortBaselines = cohorts.withLock { table in
            var baselines = table[cohort]
                ?? metrics.map { _ in Baseline(alpha: FleetMonitor.cohortAlpha, warmUp: FleetMonitor.cohortWarmUp) }
            for index in metrics.indices {
                if closedMinute != firstMinute { baselines[index].add(closed[index]) }
                for _ in 0..<min(idle, 5) { baselines[index].add(0) }
            }
            table[cohort] = baselines
            return baselines
        }
        setCohortLimits(cohortBaselines, rules)
    }

    /// Takes the cohort's limits as they stand (a new device, or one moved to another group).
    mutating func judgeByCohort(_ rules: MonitoringRules, cohorts: borrowing Mutex<[String: [Baseline]]>) {
        let cohort = profile.cohort
        if let baselines = cohorts.withLock({ $0[cohort] }) {
            setCohortLimits(baselines, rules)
        } else {
            let count = SignalKind.adaptiveMetrics.count
            for index in count..<(2 * count) { limits[index] = .infinity }
        }
    }

    private mutating func setCohortLimits(_ baselines: [Baseline], _ rules: MonitoringRules) {
        let metrics = SignalKind.adaptiveMetrics
        var size = 0.0
        if let messages = metrics.firstIndex(of: .messages), let bytes = metrics.firstIndex(of: .bytes), baselines[messages].mean > 0.1 {
            size = baselines[bytes].mean / baselines[messages].mean
        }
        for (index, limit) in Baseline.limits(baselines, rules.cohortSensitivity, messageSize: size).enumerated() { limits[metrics.count + index] = limit }
    }

    mutating func observe(
        _ observation: Observation, device: String, at date: Date, _ rules: MonitoringRules, thresholds: [[MonitoringRules.Threshold]]
    ) -> [ResponseOrder] {
        let minute = windows.minute
        var trigger: (SignalKind, String)?
        func raised(_ kind: SignalKind, _ detail: @autoclosure () -> String) {
            // Raised already this minute: nothing to add, and no detail to write.
            guard signals[kind]?.minute != minute else { return }
            let text = detail()
            // The heaviest signal raised by the request is named as the responses' trigger.
            if raise(kind, detail: text, at: date, rules), trigger.map({ rules.weight(of: $0.0) < rules.weight(of: kind) }) ?? true {
                trigger = (kind, text)
            }
        }
        if observation.connection { windows.add(.connections, minute: minute) }
        var touched: [DeviceMetric] = observation.connection ? [.connections] : []
        if let address = observation.source, let known = see(address, minute: minute) {
            touched.append(.newSourceAddresses)
            raised(.newAddress, "came from \(address), not seen from it before (seen: \(known.map(\.description).sorted().joined(separator: ", ")))")
        }
        for (metric, amount) in observation.counts {
            windows.add(metric, amount, minute: minute)
            touched.append(metric)
            switch metric {
            case .signatureFailures: raised(.signatureForged, "\(amount) envelope(s) not signed by the device's key")
            case .replays: raised(.replay, "\(amount) envelope(s) sent again or out of order")
            case .clockSkew: raised(.clockSkew, "\(amount) envelope(s) outside the clock window")
            case .policyDenials: raised(.policyDenied, "\(amount) request(s) the policy denies")
            default: break
            }
        }
        let metrics = SignalKind.adaptiveMetrics
        for metric in touched {
            if let index = metrics.firstIndex(of: metric) {
                let count = Double(windows.lastMinute(metric))
                if count > limits[index] {
                    let baseline = baselines[index]
                    raised(.baseline(metric), "\(Int(count)) \(metric) this minute; its own baseline is \(Self.figure(baseline.mean)) ± \(Self.figure(baseline.deviation)) (z = \(Self.figure(baseline.zScore(count))))")
                }
                if count > limits[metrics.count + index] {
                    raised(.cohort(metric), "\(Int(count)) \(metric) this minute; devices of \(profile.cohort) stay under \(Int(limits[metrics.count + index]))")
                }
            }
            for threshold in thresholds[metric.rawValue] where threshold.applies(to: profile) {
                let count = threshold.window.count(metric, in: windows)
                if count > threshold.above {
                    raised(.rule(threshold.name), "\(count) \(metric) over \(threshold.window.rawValue), above \(threshold.above)")
                }
            }
        }
        guard let (kind, detail) = trigger else { return [] }
        return respond(device: device, trigger: kind, detail: detail, at: date, rules)
    }

    /// Returns the addresses known before when `address` is new and not the device's first.
    private mutating func see(_ address: IPAddress, minute: Int) -> [IPAddress]? {
        if addresses[address] != nil {
            addresses[address] = minute
            return nil
        }
        let known = Array(addresses.keys)
        if addresses.count >= FleetMonitor.addressLimit, let oldest = addresses.min(by: { $0.value < $1.value })?.key {
            addresses.removeValue(forKey: oldest)
        }
        addresses[address] = minute
        // The first address of a device is where it enrolled or first spoke from, not news.
        guard !known.isEmpty else { return nil }
        windows.add(.newSourceAddresses, minute: minute)
        return known
    }

    /// Raises `kind` (at most once a minute); returns whether it was raised.
    mutating func raise(_ kind: SignalKind, detail: String, at date: Date, _ rules: MonitoringRules) -> Bool {
        let minute = FleetMonitor.minute(date)
        let weight = rules.weight(of: kind)
        if var raised = signals[kind] {
            guard raised.minute != minute else { return false }
            let faded = raised.strength * Self.fading(date.timeIntervalSince(raised.last), rules.halfLife)
            // Raised again and again, a kind weighs up to twice its weight, no more: a
            // low-weight signal never takes the score down alone.
            raised.strength = min(100, 2 * weight, faded + weight)
            raised.weight = weight
            raised.count += 1
            raised.last = date
            raised.minute = minute
            raised.detail = detail
            signals[kind] = raised
        } else {
            signals[kind] = Raised(weight: weight, strength: min(100, weight), count: 1, first: date, last: date, minute: minute, detail: detail)
        }
        note(kind.rawValue, at: date, halfLife: rules.halfLife)
        newlyRaised.append(kind)
        return true
    }

    /// Evaluates the response rules after a signal: each fires once while its condition holds,
    /// and again only after it has stopped holding.
    mutating func respond(device: String, trigger: SignalKind, detail: String, at date: Date, _ rules: MonitoringRules) -> [ResponseOrder] {
        let (contributions, score, active) = standing(at: date, halfLife: rules.halfLife)
        let heaviest = contributions.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.map(\.key)
        var orders: [ResponseOrder] = []
        for response in rules.responses {
            if response.condition.holds(score: score, signals: active, profile: profile) {
                guard fired.insert(response.name).inserted else { continue }
                orders.append(
                    ResponseOrder(
                        device: device, rule: response.name, action: response.action, dryRun: response.dryRun,
                        condition: response.condition.description, score: Int(score.rounded()), trigger: trigger, detail: detail,
                        signals: heaviest))
            } else {
                fired.remove(response.name)
            }
        }
        return orders
    }

    /// Forgets fired responses whose condition no longer holds (signals have faded), so that they
    /// fire again when it holds again.
    mutating func rearm(at date: Date, _ rules: MonitoringRules) {
        let (_, score, active) = standing(at: date, halfLife: rules.halfLife)
        for response in rules.responses where fired.contains(response.name) {
            if !response.condition.holds(score: score, signals: active, profile: profile) { fired.remove(response.name) }
        }
    }

    mutating func note(_ cause: String, at date: Date, halfLife: Double) {
        if history.count >= FleetMonitor.historyLimit { history.removeFirst(history.count - FleetMonitor.historyLimit + 1) }
        let score = Self.score(contributions(at: date, halfLife: halfLife))
        history.append(TrustReport.Point(at: Int(date.timeIntervalSince1970), score: Int(score.rounded()), cause: cause))
    }

    /// What each signal takes off at `date`, the score, and the signals response conditions see
    /// (those still taking off a point or more).
    func standing(at date: Date, halfLife: Double) -> (contributions: [SignalKind: Double], score: Double, active: Set<SignalKind>) {
        let contributions = contributions(at: date, halfLife: halfLife)
        return (contributions, Self.score(contributions), Set(contributions.filter { $0.value >= 1 }.map(\.key)))
    }

    func contributions(at date: Date, halfLife: Double) -> [SignalKind: Double] {
        signals.mapValues { $0.strength * Self.fading(date.timeIntervalSince($0.last), halfLife) }
    }

    static func fading(_ age: Double, _ halfLife: Double) -> Double {
        age <= 0 ? 1 : pow(0.5, age / halfLife)
    }

    static func score(_ contributions: [SignalKind: Double]) -> Double {
        max(0, 100 - contributions.values.reduce(0, +))
    }

    static func figure(_ value: Double) -> String {
        value.isFinite ? String(format: "%.1f", value) : "∞"
    }

    func report(device: String, at date: Date, halfLife: Double) -> TrustReport {
        let contributions = contributions(at: date, halfLife: halfLife)
        let score = Self.score(contributions)
        func seconds(_ date: Date) -> Int { Int(date.timeIntervalSince1970) }
        var explained: [TrustReport.Signal] = []
        for (kind, raised) in signals {
            let contribution: Double = (contributions[kind, default: 0] * 10).rounded() / 10
            guard contribution >= 0.1 else { continue }
            let age = max(0, Int(date.timeIntervalSince(raised.last)))
            explained.append(
                TrustReport.Signal(
                    kind: kind.rawValue, weight: raised.weight, count: raised.count, firstSeen: seconds(raised.first),
                    lastSeen: seconds(raised.last), ageSeconds: age, contribution: contribution, detail: raised.detail))
        }
        explained.sort { $0.contribution > $1.contribution || ($0.contribution == $1.contribution && $0.kind < $1.kind) }
        var explanation = "100"
        for signal in explained { explanation += " − \(Self.figure(signal.contribution)) \(signal.kind)" }
        explanation += " = \(Int(score.rounded()))"
        if explained.isEmpty { explanation = "100: no signal weighs on the device" }
        return TrustReport(
            device: device, score: Int(score.rounded()), at: seconds(date), halfLifeSeconds: Int(halfLife), signals: explained, history: history,
            responses: fired.sorted(), explanation: explanation)
    }
}
