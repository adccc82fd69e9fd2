import SQLKit
import VouchCore

/// A registered measurement.
package struct FirmwareRecord: Sendable, Hashable {
    /// Lower-case hex SHA-256 of the image.
    package var digest: String
    package var model: String
    package var version: String
    /// `good`, or `revoked` once revoked.
    package var status: FirmwareStatus
    package var createdAt: Int
    package var updatedAt: Int

    package init(digest: String, model: String, version: String, status: FirmwareStatus, createdAt: Int, updatedAt: Int) {
        self.digest = digest
        self.model = model
        self.version = version
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A device's latest firmware report and its verdict.
package struct FirmwareReport: Sendable, Hashable {
    package var deviceId: String
    package var digest: String
    package var version: String
    package var status: FirmwareStatus
    package var phase: AttestationPhase
    package var reportedAt: Int

    package init(deviceId: String, digest: String, version: String, status: FirmwareStatus, phase: AttestationPhase, reportedAt: Int) {
        self.deviceId = deviceId
        self.digest = digest
        self.version = version
        self.status = status
        self.phase = phase
        self.reportedAt = reportedAt
    }
}

/// The registry of known-good measurements, and each device's latest report.
package struct FirmwareRepository: Sendable {
    let sql: any SQLDatabase

    private struct Row: Codable {
        var digest: String
        var model: String
        var version: String
        var status: String
        var createdAt: Int
        var updatedAt: Int
    }

    private struct ReportRow: Codable {
        var deviceId: String
        var digest: String
        var version: String
        var status: String
        var phase: String
        var reportedAt: Int
    }

    private static func record(_ row: Row) throws -> FirmwareRecord {
        guard let status = FirmwareStatus(rawValue: row.status) else { throw StoreError.corrupt("measurement \(row.digest) has status \(row.status)") }
        return FirmwareRecord(digest: row.digest, model: row.model, version: row.version, status: status, createdAt: row.createdAt, updatedAt: row.updatedAt)
    }

    package func insert(_ firmware: FirmwareRecord) async throws {
        try await sql.insert(into: "firmware").columns("digest", "model", "version", "status", "created_at", "updated_at")
            .values(
                SQLBind(firmware.digest), SQLBind(firmware.model), SQLBind(firmware.version), SQLBind(firmware.status.rawValue),
                SQLBind(firmware.createdAt), SQLBind(firmware.updatedAt)
            ).run()
    }

    package func find(digest: String) async throws -> FirmwareRecord? {
        try await sql.select().column("*").from("firmware").where("digest", .equal, digest)
            .first(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    package func all() async throws -> [FirmwareRecord] {
        try await sql.select().column("*").from("firmware").orderBy("model").orderBy("version")
            .all(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    /// Marks a measurement revoked, and the devices that last reported it; returns those devices.
    package func revoke(digest: String, at: Int) async throws -> [String] {
        try await sql.update("firmware").set("status", to: FirmwareStatus.revoked.rawValue).set("updated_at", to: at).where("digest", .equal, digest).run()
        let devices = try await sql.select().column("device_id").from("device_firmware").where("digest", .equal, digest).all()
            .map { try $0.decode(column: "device_id", as: String.self) }
        try await sql.update("device_firmware").set("status", to: FirmwareStatus.revoked.rawValue).where("digest", .equal, digest).run()
        return devices
    }

    /// The device's latest report.
    package func report(deviceID: String) async throws -> FirmwareReport? {
        guard let row = try await sql.select().column("*").from("device_firmware").where("device_id", .equal, deviceID)
            .first(decoding: ReportRow.self, with: SQLValues.decoder)
        else { return nil }
        guard let status = FirmwareStatus(rawValue: row.status), let phase = AttestationPhase(rawValue: row.phase) else {
            throw StoreError.corrupt("the firmware report of device \(deviceID) has status \(row.status), phase \(row.phase)")
        }
        return FirmwareReport(deviceId: row.deviceId, digest: row.digest, version: row.version, status: status, phase: phase, reportedAt: row.reportedAt)
    }

    /// Replaces the device's latest report.
    package func record(_ report: FirmwareReport) async throws {
        try await sql.delete(from: "device_firmware").where("device_id", .equal, report.deviceId).run()
        try await sql.insert(into: "device_firmware").columns("device_id", "digest", "version", "status", "phase", "reported_at")
            .values(
                SQLBind(report.deviceId), SQLBind(report.digest), SQLBind(report.version), SQLBind(report.status.rawValue),
                SQLBind(report.phase.rawValue), SQLBind(report.reportedAt)
            ).run()
    }
}
