import VouchKit

/// What monitoring knows of a device besides its counts: where it is placed and what it is, so
/// that thresholds can be given per group or zone and cohorts formed of the same model and group.
public struct DeviceProfile: Sendable, Hashable {
    public var group: String
    public var zone: String
    /// The device's `model` attribute, or "" when it has none.
    public var model: String

    public init(group: String, zone: String, model: String) {
        self.group = group
        self.zone = zone
        self.model = model
    }

    /// Devices of the same model in the same group are compared with each other.
    public var cohort: String { "\(model)/\(group)" }
}

/// What one request showed of a device: counts per metric, and where it came from.
public struct Observation: Sendable {
    /// The source address of the request, if known.
    public var source: IPAddress?
    /// Whether the request counts as a connection (an authentication or a telemetry batch).
    public var connection: Bool
    public private(set) var counts: [(metric: DeviceMetric, amount: UInt32)] = []

    public init(source: IPAddress? = nil, connection: Bool = false) {
        self.source = source
        self.connection = connection
    }

    /// Counts `amount` more of `metric` (added to what the observation already holds of it).
    public mutating func count(_ metric: DeviceMetric, _ amount: UInt32 = 1) {
        guard amount > 0 else { return }
        if let index = counts.firstIndex(where: { $0.metric == metric }) {
            counts[index].amount &+= amount
        } else {
            counts.append((metric, amount))
        }
    }

    /// An observation of one count and nothing else.
    public static func counting(_ metric: DeviceMetric, _ amount: UInt32 = 1) -> Observation {
        var observation = Observation()
        observation.count(metric, amount)
        return observation
    }
}

/// An automated response a rule asks for, with what caused it.
public struct ResponseOrder: Sendable, Hashable {
    public let device: String
    /// The rule's name.
    public let rule: String
    public let action: MonitoringRules.Action
    /// Whether the rule only records what it would do.
    public let dryRun: Bool
    /// The rule's condition, as written back.
    public let condition: String
    /// The trust score when the rule fired.
    public let score: Int
    /// The signal whose raising made the rule fire, and what it said.
    public let trigger: SignalKind
    public let detail: String
    /// The signals weighing on the score, the heaviest first.
    public let signals: [SignalKind]
}

/// A device's trust score with its explanation: every signal still weighing on it, with its
/// weight, how often and when it was raised, and what it takes off now that it has faded.
public struct TrustReport: Sendable, Hashable, Codable {
    public struct Signal: Sendable, Hashable, Codable {
        public let kind: String
        /// What the signal takes off when raised.
        public let weight: Double
        /// Times raised (at most once a minute).
        public let count: Int
        public let firstSeen: Int
        public let lastSeen: Int
        public let ageSeconds: Int
        /// What it takes off now, after fading.
        public let contribution: Double
        /// What the detector saw the last time.
        public let detail: String
    }

    /// One point of the score's history: after each signal, release or response.
    public struct Point: Sendable, Hashable, Codable {
        public let at: Int
        public let score: Int
        public let cause: String
    }

    public let device: String
    /// 100 is fully trusted, 0 not at all.
    public let score: Int
    public let at: Int
    public let halfLifeSeconds: Int
    /// The signals still weighing on the score, the heaviest first.
    public let signals: [Signal]
    /// The score over time, oldest first.
    public let history: [Point]
    /// Response rules that have fired and still hold.
    public let responses: [String]
    /// The arithmetic, for people: `100 − 48.3 signature.forged − 19.8 address.new = 32`.
    public let explanation: String
}
