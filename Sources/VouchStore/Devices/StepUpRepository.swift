import SQLKit

/// A step-up a response rule asked of a device.
package struct StepUpRecord: Codable, Sendable, Hashable {
    package var deviceId: String
    package var requiredAt: Int
    package var cause: String

    package init(deviceId: String, requiredAt: Int, cause: String) {
        self.deviceId = deviceId
        self.requiredAt = requiredAt
        self.cause = cause
    }
}

/// Step-ups asked of devices: each stands until the device attests known-good firmware.
package struct StepUpRepository: Sendable {
    let sql: any SQLDatabase

    /// Asks the device to step up at its next authentication (kept if already asked).
    package func require(deviceID: String, at: Int, cause: String) async throws {
        guard try await find(deviceID: deviceID) == nil else { return }
        try await sql.insert(into: "step_ups").columns("device_id", "required_at", "cause")
            .values(SQLBind(deviceID), SQLBind(at), SQLBind(cause)).run()
    }

    /// The step-up asked of the device, if any.
    package func find(deviceID: String) async throws -> StepUpRecord? {
        try await sql.select().column("*").from("step_ups").where("device_id", .equal, deviceID)
            .first(decoding: StepUpRecord.self, with: SQLValues.decoder)
    }

    package func clear(deviceID: String) async throws {
        try await sql.delete(from: "step_ups").where("device_id", .equal, deviceID).run()
    }
}
