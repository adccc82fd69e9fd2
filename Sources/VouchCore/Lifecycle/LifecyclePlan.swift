import VouchKit

/// What carrying out a lifecycle action must change besides the device's state, in order.
///
/// The service that applies an action performs these in one transaction; they are decided here,
/// without I/O, so that every state × action is tested without a server.
public enum LifecycleEffect: Hashable, Sendable {
    /// Issue the device's certificate and credentials (after the issuance gates).
    case issueIdentity
    /// Put the device's good certificates on hold (CRL reason certificateHold).
    case holdCertificates
    /// Lift the holds on the device's certificates; with a reason, the held certificates are
    /// revoked for it instead of coming back.
    case resolveHolds(revokingFor: RevocationReason?)
    /// Revoke the device's good certificates.
    case revokeCertificates(RevocationReason)
    /// Set the device's credentials' bits in the status lists of `purpose`.
    case setStatusBits(StatusPurpose)
    /// Clear them.
    case clearStatusBits(StatusPurpose)
    /// Certificates or status bits changed: CRLs and status lists are made again.
    case advanceRevocations
    /// An operator looked and let the device back: what monitoring held against it is cleared.
    case clearMonitoring
}

/// A lifecycle action decided: where it leads, what it changes, and the event that records it.
public struct LifecyclePlan: Hashable, Sendable {
    public var action: LifecycleAction
    public var from: DeviceState
    public var to: DeviceState
    public var effects: [LifecycleEffect]
    /// The revocation reason the event records: the one given, or for revoke and decommission the
    /// reason used when none was given.
    public var reason: RevocationReason?

    /// The event that records it.
    public var eventKind: EventKind { EventKind(action) }
}

extension LifecycleAction {
    /// As events name what happened: `approved`, `suspended`, ….
    public var pastTense: String {
        switch self {
        case .approve: "approved"
        case .suspend: "suspended"
        case .reinstate: "reinstated"
        case .quarantine: "quarantined"
        case .release: "released"
        case .revoke: "revoked"
        case .decommission: "decommissioned"
        }
    }
}

extension DeviceState {
    /// Whether the device's identity may act: an active device, and a quarantined one (which
    /// policy confines to remediation).
    public var mayAct: Bool { isInService }
}

extension DeviceLifecycle {
    /// The plan for `action` on a device in `state`, or why the state does not allow it.
    public static func plan(
        _ action: LifecycleAction, from state: DeviceState, reason: RevocationReason? = nil
    ) -> Result<LifecyclePlan, IllegalTransition> {
        transition(from: state, on: action).map { next in
            var reason = reason
            let effects: [LifecycleEffect]
            switch action {
            case .approve:
                effects = [.issueIdentity]
            case .suspend:
                effects = [.holdCertificates, .setStatusBits(.suspension), .advanceRevocations]
            case .reinstate:
                effects = [.resolveHolds(revokingFor: nil), .clearStatusBits(.suspension), .advanceRevocations, .clearMonitoring]
            case .quarantine:
                // The certificate stays good, so that the device can still reach the authority for its
                // quarantine allow-list (re-attestation, firmware). Its credentials are suspended, so
                // offline verifiers, which cannot see the quarantine zone, refuse its capabilities.
                // Only an active device is quarantined, so there is no hold here to keep or lift.
                effects = [.setStatusBits(.suspension), .advanceRevocations]
            case .release:
                effects = [.clearStatusBits(.suspension), .advanceRevocations, .clearMonitoring]
            case .revoke, .decommission:
                let code = reason ?? (action == .revoke ? .unspecified : .cessationOfOperation)
                reason = code
                effects = [
                    .resolveHolds(revokingFor: code), .revokeCertificates(code), .clearStatusBits(.suspension),
                    .setStatusBits(.revocation), .advanceRevocations,
                ]
            }
            return LifecyclePlan(action: action, from: state, to: next, effects: effects, reason: reason)
        }
    }
}
