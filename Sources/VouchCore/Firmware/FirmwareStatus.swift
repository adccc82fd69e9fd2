/// What a firmware measurement is judged, against the registry of known-good images per model.
public enum FirmwareStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Registered for the device's model and not revoked.
    case good
    /// Not registered, or registered for another model.
    case unknown
    /// Registered once, revoked since: never good again.
    case revoked
}

/// When a device reports its firmware.
public enum AttestationPhase: String, Sendable, Hashable, CaseIterable, Codable {
    case enrollment, renewal, rotation, boot
    /// Sent with an access-token request after a response rule asked the device to step up.
    case stepUp = "step-up"
}

/// A measurement as the registry holds it, for judging.
public struct RegisteredFirmware: Sendable, Hashable {
    public var digest: String
    public var model: String
    public var version: String
    public var revoked: Bool

    public init(digest: String, model: String, version: String, revoked: Bool) {
        self.digest = digest
        self.model = model
        self.version = version
        self.revoked = revoked
    }
}

/// The firmware verdict: a measurement against the registry, for a device of `deviceModel`.
public enum FirmwareJudgement {
    /// `revoked` for a revoked image whatever its model; `good` only when registered for the
    /// device's own model; `unknown` otherwise. The detail says why, in words for people.
    public static func judge(sha256: String, deviceModel: String?, registered: RegisteredFirmware?) -> (status: FirmwareStatus, detail: String) {
        switch registered {
        case .some(let row) where row.revoked:
            (.revoked, "measurement \(row.digest) (\(row.model) \(row.version)) is revoked")
        case .some(let row) where row.model == deviceModel:
            (.good, "\(row.model) \(row.version), known-good")
        case .some(let row):
            (.unknown, "measurement \(row.digest) is registered for model \(row.model), not for this device's model \(deviceModel ?? "(none)")")
        case .none:
            (.unknown, "measurement \(sha256) is not registered for model \(deviceModel ?? "(none)")")
        }
    }
}
