import Foundation
import Hummingbird
import VouchAPI
import VouchCore
import VouchKit

/// Firmware attestation: the registry of known-good measurements (`/v1/admin/firmware`), and the
/// device's boot report (`POST /v1/devices/self/attestation`).
struct FirmwareController<Firmware: FirmwareServing, Auth: DeviceAuthenticating, Keys: APIKeyManaging> {
    let firmware: Firmware
    let deviceAuth: Auth
    let apiKeys: Keys

    /// `POST /v1/devices/self/attestation`: a device asked to step up attests here.
    var deviceEndpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
            .add(middleware: DeviceAuthenticator(devices: deviceAuth, allowingStepUp: true))
            .add(middleware: RequireDevice())
        routes.post("self/attestation", use: attest)
        return routes
    }

    /// `/v1/admin/firmware`.
    var adminEndpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self).add(middleware: APIKeyAuthenticator(apiKeys: apiKeys))
        let changes = routes.group().add(middleware: RequireScope(.operator))
        changes.post("firmware", use: register)
        routes.group().add(middleware: RequireScope(.readOnly)).get("firmware", use: list)
        changes.post("firmware/{sha256}/revoke", use: revoke)
        return routes
    }

    @Sendable func attest(_ request: Request, context: VouchRequestContext) async throws -> Answer<FirmwareVerdict> {
        let device = try context.device
        let body = try await request.decode(as: MeasurementBody.self, context: context)
        // A boot report may stand alone; only one answering a fresh nonce clears a step-up.
        let verdict: FirmwareVerdict
        if let nonce = body.nonce, let fresh = try await firmware.freshMeasurement(body.measurement, nonce: nonce, by: device, phase: .boot) {
            verdict = fresh
            if verdict.status == .good { try await deviceAuth.steppedUp(device, verdict: verdict) }
        } else {
            verdict = try await firmware.attest(body.measurement, by: device, phase: .boot, nonce: nil)
        }
        return Answer(verdict)
    }

    @Sendable func register(_ request: Request, context: VouchRequestContext) async throws -> Answer<FirmwareView> {
        let body = try await request.decode(as: FirmwareRegistration.self, context: context)
        return Answer(try await firmware.register(body, actor: context.actor), status: .created)
    }

    @Sendable func list(_ request: Request, context: VouchRequestContext) async throws -> Answer<[FirmwareView]> {
        Answer(try await firmware.list())
    }

    @Sendable func revoke(_ request: Request, context: VouchRequestContext) async throws -> Answer<RevokedFirmware> {
        let (revoked, affected) = try await firmware.revoke(try context.parameters.require("sha256"), actor: context.actor)
        return Answer(RevokedFirmware(firmware: revoked, devices: affected))
    }
}
