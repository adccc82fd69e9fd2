import VouchAPI
import VouchCore
import VouchStore

/// What the firmware API asks of attestation.
protocol FirmwareServing: Sendable {
    func register(_ registration: FirmwareRegistration, actor: String) async throws -> FirmwareView
    func revoke(_ digest: String, actor: String) async throws -> (FirmwareView, devices: [String])
    func list() async throws -> [FirmwareView]
    func attest(_ token: String, by device: DeviceRecord, phase: AttestationPhase, nonce: String?) async throws -> FirmwareVerdict
    func freshMeasurement(_ token: String?, nonce: String?, by device: DeviceRecord, phase: AttestationPhase) async throws -> FirmwareVerdict?
}

extension FirmwareService: FirmwareServing {}
