/// One device's counts over the last hour: a bucket per minute for the last 5 minutes, and a
/// bucket per 5 minutes for the hour, in one flat array so that an update touches one cache line
/// and allocates nothing.
public struct MetricWindows: Sendable {
    static let metrics = DeviceMetric.allCases.count
    static let minuteBuckets = 5
    static let fiveMinuteBuckets = 12

    /// The minute (since 1970) of the newest minute bucket.
    public private(set) var minute: Int
    private var minutes: [UInt32]
    private var fiveMinutes: [UInt32]

    /// Empty windows starting at `minute`.
    public init(minute: Int) {
        self.minute = minute
        minutes = Array(repeating: 0, count: Self.minuteBuckets * Self.metrics)
        fiveMinutes = Array(repeating: 0, count: Self.fiveMinuteBuckets * Self.metrics)
    }

    /// Adds `amount` to `metric` at `minute` (earlier minutes than the newest count in the newest).
    public mutating func add(_ metric: DeviceMetric, _ amount: UInt32 = 1, minute: Int) {
        advance(to: minute)
        let slot = (self.minute % Self.minuteBuckets) * Self.metrics + metric.rawValue
        minutes[slot] &+= amount
        let block = ((self.minute / 5) % Self.fiveMinuteBuckets) * Self.metrics + metric.rawValue
        fiveMinutes[block] &+= amount
    }

    /// Moves the newest bucket to `minute`, emptying the buckets that fall out.
    public mutating func advance(to minute: Int) {
        guard minute > self.minute else { return }
        let steps = minute - self.minute
        for step in 1...min(steps, Self.minuteBuckets) {
            let bucket = (self.minute + step) % Self.minuteBuckets
            for metric in 0..<Self.metrics { minutes[bucket * Self.metrics + metric] = 0 }
        }
        let oldBlock = self.minute / 5
        let newBlock = minute / 5
        if newBlock > oldBlock {
            for step in 1...min(newBlock - oldBlock, Self.fiveMinuteBuckets) {
                let bucket = (oldBlock + step) % Self.fiveMinuteBuckets
                for metric in 0..<Self.metrics { fiveMinutes[bucket * Self.metrics + metric] = 0 }
            }
        }
        self.minute = minute
    }

    /// The count of `metric` in the newest minute.
    public func lastMinute(_ metric: DeviceMetric) -> Int {
        Int(minutes[(minute % Self.minuteBuckets) * Self.metrics + metric.rawValue])
    }

    /// The count of `metric` over the last 5 minutes (this one included).
    public func lastFiveMinutes(_ metric: DeviceMetric) -> Int {
        (0..<Self.minuteBuckets).reduce(0) { $0 + Int(minutes[$1 * Self.metrics + metric.rawValue]) }
    }

    /// The count of `metric` over the last hour (in 5-minute blocks, this one included).
    public func lastHour(_ metric: DeviceMetric) -> Int {
        (0..<Self.fiveMinuteBuckets).reduce(0) { $0 + Int(fiveMinutes[$1 * Self.metrics + metric.rawValue]) }
    }
}
