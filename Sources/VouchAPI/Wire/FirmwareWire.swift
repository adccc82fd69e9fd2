import Foundation
import VouchCore

/// A measurement as the admin API shows it.
public struct FirmwareView: Codable, Sendable {
    public var sha256: String
    public var model: String
    public var version: String
    public var status: FirmwareStatus
    public var createdAt: Int
    public var updatedAt: Int

    public init(sha256: String, model: String, version: String, status: FirmwareStatus, createdAt: Int, updatedAt: Int) {
        self.sha256 = sha256
        self.model = model
        self.version = version
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// `POST /v1/admin/firmware`.
public struct FirmwareRegistration: Codable, Sendable {
    public var model: String
    public var version: String
    public var sha256: String

    public init(model: String, version: String, sha256: String) {
        self.model = model
        self.version = version
        self.sha256 = sha256
    }
}

/// `POST /v1/admin/firmware/{sha256}/revoke`.
public struct RevokedFirmware: Codable, Sendable {
    public var firmware: FirmwareView
    /// Devices whose latest report is this measurement.
    public var devices: [String]

    public init(firmware: FirmwareView, devices: [String]) {
        self.firmware = firmware
        self.devices = devices
    }
}

/// What the authority made of a device's measurement.
public struct FirmwareVerdict: Codable, Sendable {
    /// `good` (registered for the device's model), `unknown` or `revoked`.
    public var status: FirmwareStatus
    public var sha256: String
    public var version: String
    public var phase: AttestationPhase
    /// What it means, for people.
    public var detail: String

    public init(status: FirmwareStatus, sha256: String, version: String, phase: AttestationPhase, detail: String) {
        self.status = status
        self.sha256 = sha256
        self.version = version
        self.phase = phase
        self.detail = detail
    }
}
