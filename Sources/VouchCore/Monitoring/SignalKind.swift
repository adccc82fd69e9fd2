/// What a detector says about a device: `signature.forged`, `baseline.messages`, `rule.chatty`…
///
/// Signals that are wrong on sight are raised the moment they happen; adaptive ones
/// (`baseline.*` against the device's own history, `cohort.*` against devices of the same model
/// and group) when a count crosses its limit; `rule.NAME` when a static threshold of the policy
/// is crossed.
public struct SignalKind: RawRepresentable, Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static func < (lhs: SignalKind, rhs: SignalKind) -> Bool { lhs.rawValue < rhs.rawValue }

    /// An envelope in an authenticated batch that the device's key did not sign.
    public static let signatureForged = SignalKind(rawValue: "signature.forged")
    /// An envelope sent again, or out of order.
    public static let replay = SignalKind(rawValue: "telemetry.replay")
    /// A firmware measurement the registry does not know for the device's model.
    public static let firmwareUnknown = SignalKind(rawValue: "firmware.unknown")
    /// A firmware measurement the registry has revoked.
    public static let firmwareRevoked = SignalKind(rawValue: "firmware.revoked")
    /// Envelopes outside the clock window.
    public static let clockSkew = SignalKind(rawValue: "clock.skew")
    /// Requests or topics the policy denies.
    public static let policyDenied = SignalKind(rawValue: "policy.denied")
    /// A source address the device has not come from before.
    public static let newAddress = SignalKind(rawValue: "address.new")

    /// Signals raised on sight.
    public static let onSight: [SignalKind] = [.signatureForged, .replay, .firmwareUnknown, .firmwareRevoked, .clockSkew, .policyDenied, .newAddress]

    /// Metrics with adaptive baselines, per device and per cohort. Authentication failures are
    /// left out on purpose: a refused proof names a device without proving it, so anyone could
    /// raise them against any device; they are counted for operators to read, never judged.
    public static let adaptiveMetrics: [DeviceMetric] = [.messages, .bytes, .connections]

    /// Metrics whose counts anyone could run up in a device's name, which no signal may come from.
    public static let unprovenMetrics: Set<DeviceMetric> = [.authFailures]

    /// A count above the device's own baseline.
    public static func baseline(_ metric: DeviceMetric) -> SignalKind { SignalKind(rawValue: "baseline.\(metric)") }

    /// A count above the baseline of the device's cohort (same model and group).
    public static func cohort(_ metric: DeviceMetric) -> SignalKind { SignalKind(rawValue: "cohort.\(metric)") }

    /// A static threshold of the policy, by name.
    public static func rule(_ name: String) -> SignalKind { SignalKind(rawValue: "rule.\(name)") }

    /// Every kind the detectors can raise, static thresholds aside.
    public static let known: [SignalKind] =
        onSight + adaptiveMetrics.map(baseline) + adaptiveMetrics.map(cohort)

    /// How much each kind lowers the trust score when it is raised (out of 100), unless the policy
    /// says otherwise. Raised again, a kind adds up to twice its weight at most.
    public static let defaultWeights: [SignalKind: Double] = {
        var weights: [SignalKind: Double] = [
            .signatureForged: 60, .replay: 40, .firmwareUnknown: 50, .firmwareRevoked: 80, .clockSkew: 10, .policyDenied: 20,
            .newAddress: 20,
        ]
        for metric in adaptiveMetrics {
            weights[baseline(metric)] = 25
            weights[cohort(metric)] = 20
        }
        return weights
    }()
}
