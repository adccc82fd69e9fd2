import Foundation

/// How devices are watched and what is done when they misbehave: the `monitoring` section of a
/// policy document.
///
/// ```yaml
/// monitoring:
///   halfLife: 30m                 # how fast a signal's weight fades
///   sensitivity: {device: 6, cohort: 6}
///   weights: {address.new: 10}
///   thresholds:
///     - {name: chatty, metric: messages, window: 1m, above: 600, groups: [sensors], weight: 30}
///   responses:
///     - when score < 40 or signal == firmware.unknown then quarantine
///     - {name: new-address, when: signal == address.new, then: step-up, dryRun: true}
/// ```
public struct MonitoringRules: Sendable, Hashable {
    /// A count window.
    public enum Window: String, Sendable, Hashable, CaseIterable {
        case minute = "1m", fiveMinutes = "5m", hour = "1h"

        func count(_ metric: DeviceMetric, in windows: MetricWindows) -> Int {
            switch self {
            case .minute: windows.lastMinute(metric)
            case .fiveMinutes: windows.lastFiveMinutes(metric)
            case .hour: windows.lastHour(metric)
            }
        }
    }

    /// A static threshold: `rule.NAME` is raised when `metric` over `window` goes above `above`,
    /// for devices of the groups and zones named (all when none are).
    public struct Threshold: Sendable, Hashable {
        public let name: String
        public let metric: DeviceMetric
        public let window: Window
        public let above: Int
        public let groups: [String]
        public let zones: [String]
        public let weight: Double

        public init(name: String, metric: DeviceMetric, window: Window, above: Int, groups: [String] = [], zones: [String] = [], weight: Double = 30) {
            self.name = name
            self.metric = metric
            self.window = window
            self.above = above
            self.groups = groups
            self.zones = zones
            self.weight = weight
        }

        func applies(to profile: DeviceProfile) -> Bool {
            (groups.isEmpty || groups.contains(profile.group)) && (zones.isEmpty || zones.contains(profile.zone))
        }
    }

    /// What a response does.
    public enum Action: String, Sendable, Hashable, CaseIterable, Codable {
        /// Records a `monitor.alert` event.
        case alert
        /// The device's next access token needs a fresh, known-good firmware attestation.
        case stepUp = "step-up"
        /// Moves the device to the quarantine zone, with short-lived credentials.
        case quarantine
        /// Suspends the device: certificates on hold, credentials suspended.
        case suspend
        /// Revokes the device for good.
        case revoke
    }

    /// A response rule: when `condition` holds, take `action` (or, in a dry run, record that it
    /// would have been taken).
    public struct Response: Sendable, Hashable {
        public let name: String
        public let condition: ResponseCondition
        public let action: Action
        public let dryRun: Bool

        public init(name: String, condition: ResponseCondition, action: Action, dryRun: Bool = false) {
            self.name = name
            self.condition = condition
            self.action = action
            self.dryRun = dryRun
        }

        /// Reads `when CONDITION then ACTION`.
        public init(name: String, parsing text: String, dryRun: Bool = false) throws(ResponseConditionError) {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("when ") else {
                throw ResponseConditionError(column: 1, message: "a response reads \"when CONDITION then ACTION\"")
            }
            let afterWhen = trimmed.index(trimmed.startIndex, offsetBy: 4)
            guard let then = trimmed.range(of: " then ", options: .backwards, range: afterWhen..<trimmed.endIndex), then.lowerBound > afterWhen else {
                throw ResponseConditionError(column: trimmed.count + 1, message: "a response ends with \"then ACTION\"")
            }
            let actionText = trimmed[then.upperBound...].trimmingCharacters(in: .whitespaces)
            guard let action = Action(rawValue: actionText) else {
                throw ResponseConditionError(
                    column: trimmed.distance(from: trimmed.startIndex, to: then.upperBound) + 1,
                    message: "unknown action \"\(actionText.prefix(40))\"; expected \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let conditionText = String(trimmed[trimmed.index(trimmed.startIndex, offsetBy: 5)..<then.lowerBound])
            do {
                self.init(name: name, condition: try ResponseCondition(parsing: conditionText), action: action, dryRun: dryRun)
            } catch {
                throw ResponseConditionError(column: error.column + 5, message: error.message)
            }
        }
    }

    /// How long until a signal weighs half as much (seconds).
    public var halfLife: Double
    /// How many standard deviations above its own baseline a count must go.
    public var deviceSensitivity: Double
    /// How many standard deviations above its cohort's baseline a count must go.
    public var cohortSensitivity: Double
    /// Weights that differ from ``SignalKind/defaultWeights``.
    public var weights: [SignalKind: Double]
    public var thresholds: [Threshold]
    /// Responses, in the order written.
    public var responses: [Response]

    public init(
        halfLife: Double = 1800, deviceSensitivity: Double = 6, cohortSensitivity: Double = 6, weights: [SignalKind: Double] = [:],
        thresholds: [Threshold] = [], responses: [Response] = MonitoringRules.defaultResponses
    ) {
        self.halfLife = halfLife
        self.deviceSensitivity = deviceSensitivity
        self.cohortSensitivity = cohortSensitivity
        self.weights = weights
        self.thresholds = thresholds
        self.responses = responses
    }

    /// Without a `responses` list: an alert when the score falls below 60, nothing automatic.
    public static let defaultResponses = [Response(name: "responses[0]", condition: .score(.less, 60), action: .alert)]

    /// The rules when a policy has no `monitoring` section.
    public static let standard = MonitoringRules()

    /// How much `kind` lowers the score when raised.
    public func weight(of kind: SignalKind) -> Double {
        if let weight = weights[kind] ?? SignalKind.defaultWeights[kind] { return weight }
        if kind.rawValue.hasPrefix("rule.") {
            let name = kind.rawValue.dropFirst(5)
            return thresholds.first { $0.name == name }?.weight ?? 30
        }
        return 20
    }

    /// Whether a signal pattern (`firmware.unknown`, `rule.*`) can ever match what the detectors raise.
    public func knows(signalPattern pattern: String) -> Bool {
        let kinds = SignalKind.known.map(\.rawValue) + thresholds.map { "rule.\($0.name)" }
        if pattern.hasSuffix("*") {
            let prefix = pattern.dropLast()
            return kinds.contains { $0.hasPrefix(prefix) } || "rule.".hasPrefix(prefix)
        }
        return kinds.contains(pattern)
    }
}
