/// An adaptive baseline of a per-minute count: an exponentially weighted mean and variance.
///
/// It is useful from the first minutes: the weight of a new sample starts at 1/n (an exact
/// running mean) and settles at `alpha`, so a device needs no 14-day learning period. It is
/// robust: a sample is clipped to 3 deviations above the mean before it is folded in, so a burst
/// cannot drag the baseline up to itself, and the deviation never falls below that of a Poisson
/// count (√mean + 1) nor below a quarter of the mean, so a device that sends exactly the same
/// count every minute is not flagged for sending one more.
public struct Baseline: Sendable, Hashable {
    public private(set) var mean: Double = 0
    public private(set) var variance: Double = 0
    /// Samples folded in.
    public private(set) var samples: Int = 0
    /// The weight a new sample settles at.
    public let alpha: Double
    /// Samples needed before the baseline is used.
    public let warmUp: Int

    public init(alpha: Double, warmUp: Int) {
        self.alpha = alpha
        self.warmUp = warmUp
    }

    /// Whether enough samples have been seen to judge a count.
    public var isWarm: Bool { samples >= warmUp }

    /// The deviation, with its floors.
    public var deviation: Double { max(variance.squareRoot(), mean.squareRoot() + 1, mean / 4) }

    /// The count above which a sample is `sensitivity` deviations high (with the deviation taken
    /// as at least `floor`).
    public func limit(_ sensitivity: Double, floor: Double = 0) -> Double { mean + sensitivity * max(deviation, floor) }

    /// The limits of a set of baselines in the order of ``SignalKind/adaptiveMetrics`` (infinite
    /// until warm). Bytes vary with the message count: their deviation is taken as at least the
    /// usual message size times the message count's deviation; with no size known yet, bytes are
    /// not judged (the message count still is).
    static func limits(_ baselines: [Baseline], _ sensitivity: Double, messageSize: Double) -> [Double] {
        let metrics = SignalKind.adaptiveMetrics
        let messages = metrics.firstIndex(of: .messages).map { baselines[$0] }
        return metrics.indices.map { index in
            let baseline = baselines[index]
            guard baseline.isWarm else { return .infinity }
            var floor = 0.0
            if metrics[index] == .bytes, let messages {
                guard messageSize > 0 else { return .infinity }
                floor = messageSize * messages.deviation
            }
            return baseline.limit(sensitivity, floor: floor)
        }
    }

    /// How many deviations `count` is above the mean.
    public func zScore(_ count: Double) -> Double { (count - mean) / deviation }

    /// Folds in one minute's count.
    public mutating func add(_ count: Double) {
        let clipped = isWarm ? min(count, limit(3)) : count
        samples += 1
        let weight = max(1 / Double(samples), alpha)
        let delta = clipped - mean
        mean += weight * delta
        variance = (1 - weight) * (variance + weight * delta * delta)
    }
}
