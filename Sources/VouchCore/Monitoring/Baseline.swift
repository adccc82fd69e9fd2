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

    /// The count above which a sample is `sensitivity` deviations high.
    public func limit(_ sensitivity: Double) -> Double { mean + sensitivity * deviation }

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
