import Foundation
import Hummingbird
import VouchCore
import VouchKit
import VouchStore

/// Firmware attestation: the registry of known-good measurements (`/v1/admin/firmware`), and the
/// device's boot report (`POST /v1/devices/self/attestation`).
struct FirmwareController {
    let firmware: FirmwareService
    let deviceAuth: DeviceAuthService
    let apiKeys: APIKeyMiddleware
    let devices: DeviceController

    /// `POST /v1/devices/self/attestation`.
    struct MeasurementBody: Codable, Sendable {
        /// A signed envelope on topic `vouch/attestation/firmware`.
        var measurement: String
        /// A nonce from `POST /v1/auth/challenge` the measurement answers: needed to clear a step-up.
        var nonce: String?
    }

    struct RevokedFirmware: Codable, Sendable {
        var firmware: FirmwareView
        /// Devices whose latest report is this measurement.
        var devices: [String]
    }

    func addRoutes(to router: Router<VouchRequestContext>) {
        router.post("/v1/devices/self/attestation") { request, context in
            // A device asked to step up attests here: a known-good measurement clears the request.
            let device = try await deviceAuth.authenticatedDevice(try await devices.credential(request, context), allowingStepUp: true)
            let body = try await request.decodeJSON(MeasurementBody.self, context: context)
            // A boot report may stand alone; only one answering a fresh nonce clears a step-up.
            let verdict: FirmwareVerdict
            if let nonce = body.nonce, let fresh = try await firmware.freshMeasurement(body.measurement, nonce: nonce, by: device, phase: .boot) {
                verdict = fresh
                if verdict.status == .good { try await deviceAuth.steppedUp(device, verdict: verdict) }
            } else {
                verdict = try await firmware.attest(body.measurement, by: device, phase: .boot)
            }
            return try Responses.json(verdict)
        }
        let admin = router.group("/v1/admin").add(middleware: apiKeys)
        admin.post("/firmware") { request, context in
            _ = try context.require(.operator)
            let body = try await request.decodeJSON(FirmwareRegistration.self, context: context)
            return try Responses.json(try await firmware.register(body, actor: context.actor), status: .created)
        }
        admin.get("/firmware") { _, context in
            _ = try context.require(.readOnly)
            return try Responses.json(try await firmware.list())
        }
        admin.post("/firmware/{sha256}/revoke") { _, context in
            _ = try context.require(.operator)
            let (revoked, affected) = try await firmware.revoke(try context.parameters.require("sha256"), actor: context.actor)
            return try Responses.json(RevokedFirmware(firmware: revoked, devices: affected))
        }
    }
}
