/// Where a device stands in its life, as the authority sees it.
public enum DeviceState: String, Sendable, Hashable, CaseIterable, Codable {
    /// Enrolled into a manual-approval group; waiting for an operator.
    case pending
    /// In service: certificates and credentials are good.
    case active
    /// Temporarily out of service: certificates on hold, credentials suspended.
    case suspended
    /// Kept apart for inspection: its identity stands, its access narrows to the quarantine zone.
    case quarantined
    /// Permanently distrusted: certificates revoked, credentials revoked.
    case revoked
    /// Retired by its owner: certificates revoked, record kept for audit.
    case decommissioned

    /// Whether certificates and credentials issued to the device may be considered good.
    public var isInService: Bool { self == .active || self == .quarantined }

    /// Whether no further change can happen.
    public var isTerminal: Bool { self == .decommissioned }
}

/// What an operator (or a rule) can do to a device.
public enum LifecycleAction: String, Sendable, Hashable, CaseIterable, Codable {
    case approve, suspend, reinstate, quarantine, release, revoke, decommission
}

/// An action the device's current state does not allow.
public struct IllegalTransition: Error, Sendable, Hashable, CustomStringConvertible {
    public var state: DeviceState
    public var action: LifecycleAction
    /// The actions the state does allow, in declaration order.
    public var legalActions: [LifecycleAction]

    public var description: String {
        let legal = legalActions.isEmpty ? "none" : legalActions.map(\.rawValue).joined(separator: ", ")
        let article = state.rawValue.first.map { "aeiou".contains($0) } == true ? "an" : "a"
        return "\(article) \(state.rawValue) device cannot \(action.rawValue); legal actions: \(legal)"
    }
}

/// The device lifecycle: a pure state machine.
///
/// ```
/// pending ──approve──▶ active ◀──reinstate── suspended
///                        │  ▲                   ▲
///                        │  └──release── quarantined
///                        ├──suspend─────────────┘
///                        └──quarantine──▶ quarantined
/// any of pending/active/suspended/quarantined ──revoke──▶ revoked
/// anything but decommissioned ──decommission──▶ decommissioned
/// ```
///
/// No transition out of `suspended` but `reinstate` leads back to a state that may act: a
/// suspension is a hold that only an operator's explicit reinstate lifts. Quarantine, which keeps
/// the device's certificate good so that it can remediate, is therefore not open to a suspended
/// device (it would lift the hold); an automated response can never grant more than the device had.
public enum DeviceLifecycle {
    /// The state `action` leads to from `state`, or why it cannot.
    public static func transition(
        from state: DeviceState,
        on action: LifecycleAction
    ) -> Result<DeviceState, IllegalTransition> {
        if let next = next(state, action) {
            return .success(next)
        }
        return .failure(IllegalTransition(state: state, action: action, legalActions: legalActions(from: state)))
    }

    /// Every action `state` allows.
    public static func legalActions(from state: DeviceState) -> [LifecycleAction] {
        LifecycleAction.allCases.filter { next(state, $0) != nil }
    }

    private static func next(_ state: DeviceState, _ action: LifecycleAction) -> DeviceState? {
        switch (state, action) {
        case (.pending, .approve): .active
        case (.active, .suspend): .suspended
        case (.active, .quarantine): .quarantined
        case (.suspended, .reinstate): .active
        case (.quarantined, .release): .active
        case (.pending, .revoke), (.active, .revoke), (.suspended, .revoke), (.quarantined, .revoke): .revoked
        case (.decommissioned, .decommission): nil
        case (_, .decommission): .decommissioned
        default: nil
        }
    }
}
