import VouchKit

/// What is counted per device, as AWS IoT Device Defender's cloud-side metrics and more.
public enum DeviceMetric: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Telemetry messages accepted.
    case messages
    /// Payload bytes accepted.
    case bytes
    /// Authentications refused (bad proof, stale nonce, revoked or foreign certificate).
    case authFailures
    /// Envelopes whose signature or issuer is not the device's.
    case signatureFailures
    /// Envelopes replayed or out of order.
    case replays
    /// Authorization requests and telemetry topics denied by policy.
    case policyDenials
    /// Authentications and telemetry batches: how often the device connects.
    case connections
    /// Firmware reports that are not known-good.
    case firmwareDrift
    /// Envelopes outside the clock window.
    case clockSkew
    /// Source addresses never seen from the device before.
    case newSourceAddresses

    public var description: String {
        switch self {
        case .messages: "messages"
        case .bytes: "bytes"
        case .authFailures: "auth_failures"
        case .signatureFailures: "signature_failures"
        case .replays: "replays"
        case .policyDenials: "policy_denials"
        case .connections: "connections"
        case .firmwareDrift: "firmware_drift"
        case .clockSkew: "clock_skew"
        case .newSourceAddresses: "new_source_addresses"
        }
    }
}
