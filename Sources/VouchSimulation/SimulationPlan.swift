import Foundation

/// How a simulated device misbehaves, from the moment anomalies start.
public enum Anomaly: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Sends twenty times its usual rate.
    case burst
    /// Moves: connects from another source address (`--anomaly-address`).
    case newAddress = "new-address"
    /// Sends an envelope it already sent, again, in every batch.
    case replay
    /// Slips an envelope signed by another key into every batch.
    case forged
    /// Reports a firmware image the registry does not know.
    case firmwareSwap = "firmware-swap"
    /// Publishes to a topic its role does not grant (another device's).
    case outOfPolicy = "out-of-policy"

    public static func < (lhs: Anomaly, rhs: Anomaly) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// What to simulate.
public struct SimulationPlan: Sendable {
    /// The server, `http://host:port`.
    public var server: URL
    /// An API key with the operator scope (groups, firmware, policy).
    public var apiKey: String
    public var devices: Int
    /// Messages per device per minute, on average (each device's own rate is drawn around it).
    public var rate: Double
    /// The fraction of the fleet given each anomaly; a device gets at most one.
    public var anomalies: [Anomaly: Double]
    /// Seeds every random choice: the same seed gives the same fleet and the same behaviour.
    public var seed: UInt64
    /// Seconds of normal behaviour before anomalies start, for baselines to form.
    public var warmUp: TimeInterval
    /// Seconds the anomalies run.
    public var anomalyDuration: TimeInterval
    /// Seconds between a device's batches.
    public var interval: TimeInterval
    /// A policy document to upload first (YAML or JSON), if any.
    public var policy: String?
    /// The zone and roles devices are enrolled with; the policy in force must define them.
    public var zone: String
    public var roles: [String]
    /// The `model` attribute of the simulated devices (their cohort).
    public var model: String
    /// The local address a moving device connects from; by default 127.0.0.2 against a loopback server.
    public var anomalyAddress: String?
    /// Requests in flight at once.
    public var concurrency: Int

    public init(
        server: URL, apiKey: String, devices: Int = 100, rate: Double = 4, anomalies: [Anomaly: Double] = [:], seed: UInt64 = 1,
        warmUp: TimeInterval = 300, anomalyDuration: TimeInterval = 180, interval: TimeInterval = 15, policy: String? = nil,
        zone: String = "default", roles: [String] = ["sensor"], model: String = "sim-sensor", anomalyAddress: String? = nil, concurrency: Int = 32
    ) {
        self.server = server
        self.apiKey = apiKey
        self.devices = devices
        self.rate = rate
        self.anomalies = anomalies
        self.seed = seed
        self.warmUp = warmUp
        self.anomalyDuration = anomalyDuration
        self.interval = interval
        self.policy = policy
        self.zone = zone
        self.roles = roles
        self.model = model
        self.anomalyAddress = anomalyAddress
        self.concurrency = concurrency
    }

    /// Reads `KIND:FRACTION` (`burst:0.05`).
    public static func anomaly(_ text: String) throws(SimulationError) -> (Anomaly, Double) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = Anomaly(rawValue: parts[0]) else {
            throw SimulationError("--anomaly takes KIND:FRACTION with KIND one of \(Anomaly.allCases.map(\.rawValue).joined(separator: ", ")), not \(text.prefix(40))")
        }
        guard let fraction = Double(parts[1]), fraction >= 0, fraction <= 1 else {
            throw SimulationError("the fraction in --anomaly \(text.prefix(40)) must be a number from 0 to 1")
        }
        return (kind, fraction)
    }

    /// Checks the plan before anything is sent.
    func validate() throws(SimulationError) {
        guard (1...100_000).contains(devices) else { throw SimulationError("--devices must be between 1 and 100000") }
        guard rate > 0, rate <= 6000 else { throw SimulationError("--rate must be above 0 and at most 6000 messages a minute") }
        guard interval >= 1, interval <= 60 else { throw SimulationError("the batch interval must be between 1 and 60 seconds") }
        guard warmUp >= 0, warmUp <= 7 * 86_400, anomalyDuration > 0, anomalyDuration <= 7 * 86_400 else {
            throw SimulationError("the warm-up and the anomaly duration must be positive and at most a week (604800 s)")
        }
        let total = anomalies.values.reduce(0, +)
        guard total <= 1 else { throw SimulationError("the anomaly fractions add up to \(total); at most 1 (a device gets one anomaly at most)") }
        guard let scheme = server.scheme, scheme == "http", server.host != nil else {
            throw SimulationError("--server must be an http:// URL (the simulator speaks plain HTTP/1.1), not \(server.absoluteString.prefix(80))")
        }
    }
}

/// A simulation that cannot start or go on.
public struct SimulationError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// SplitMix64: small, fast and seedable, so that a seed names one fleet.
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A Poisson-distributed count with mean `mean`.
    mutating func poisson(_ mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        if mean > 60 {
            // Normal approximation for large means.
            let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
            let u2 = Double.random(in: 0..<1, using: &self)
            let normal = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            return max(0, Int((mean + normal * mean.squareRoot()).rounded()))
        }
        let limit = exp(-mean)
        var product = Double.random(in: 0..<1, using: &self)
        var count = 0
        while product > limit {
            count += 1
            product *= Double.random(in: 0..<1, using: &self)
        }
        return count
    }
}
