/// What an event records. Every change the authority makes appends one or more events; the
/// transparency log, other nodes' caches and the event feed follow them. The raw value is the
/// `kind` the log publishes.
public enum EventKind: String, Sendable, Hashable, CaseIterable, Codable {
    case authorityBootstrapped = "authority.bootstrapped"
    case authorityURLPinned = "authority.url-pinned"
    case authorityURLMigrated = "authority.url-migrated"
    case authorityIntermediateRotated = "authority.intermediate-rotated"
    case serverCertificateIssued = "server.certificate.issued"

    case devicePending = "device.pending"
    case deviceEnrolled = "device.enrolled"
    case deviceRenewed = "device.renewed"
    case deviceRotated = "device.rotated"
    case deviceAssigned = "device.assigned"
    case deviceSteppedUp = "device.stepped-up"
    case deviceApproved = "device.approved"
    case deviceSuspended = "device.suspended"
    case deviceReinstated = "device.reinstated"
    case deviceQuarantined = "device.quarantined"
    case deviceReleased = "device.released"
    case deviceRevoked = "device.revoked"
    case deviceDecommissioned = "device.decommissioned"

    case certificateIssued = "certificate.issued"
    case credentialIssued = "credential.issued"

    case apiKeyCreated = "apikey.created"
    case apiKeyRevoked = "apikey.revoked"

    case groupCreated = "group.created"
    case groupUpdated = "group.updated"
    case groupDisabled = "group.disabled"
    case groupEnabled = "group.enabled"

    case policyUpdated = "policy.updated"

    case firmwareRegistered = "firmware.registered"
    case firmwareRevoked = "firmware.revoked"
    case firmwareReported = "firmware.reported"

    case monitorAlert = "monitor.alert"
    case monitorDryRun = "monitor.dry-run"
    case monitorSkipped = "monitor.skipped"
    case monitorStepUp = "monitor.step-up"

    case webhookCreated = "webhook.created"
    case webhookUpdated = "webhook.updated"
    case webhookRemoved = "webhook.removed"
    /// The authority stopped delivering to an endpoint that failed for too long.
    case webhookDisabled = "webhook.disabled"

    /// Whether the event changes the device it names (its subject): caches of the device drop it.
    public var changesDevice: Bool { rawValue.hasPrefix("device.") }

    /// The event of a lifecycle action.
    public init(_ action: LifecycleAction) {
        switch action {
        case .approve: self = .deviceApproved
        case .suspend: self = .deviceSuspended
        case .reinstate: self = .deviceReinstated
        case .quarantine: self = .deviceQuarantined
        case .release: self = .deviceReleased
        case .revoke: self = .deviceRevoked
        case .decommission: self = .deviceDecommissioned
        }
    }
}

extension EventKind {
    /// Whether `pattern` names event kinds, as filters take them: an exact kind, or a prefix
    /// written `device.*` (lower-case letters, dots and dashes, 1 to 64 before the star).
    public static func isPattern(_ pattern: String) -> Bool {
        let body = pattern.hasSuffix("*") ? pattern.dropLast() : Substring(pattern)
        return !body.isEmpty && body.utf8.count <= 64 && body.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x2D }
    }

    /// Whether the kind `kind` (as stored) is one `pattern` names.
    public static func kind(_ kind: String, matches pattern: String) -> Bool {
        pattern.hasSuffix("*") ? kind.hasPrefix(pattern.dropLast()) : kind == pattern
    }
}
