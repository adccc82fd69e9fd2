import SQLKit
import VouchCore

/// A device certificate as stored.
package struct CertificateRecord: Sendable, Hashable {
    /// Lower-case hex of the serial number's bytes.
    package var serial: String
    package var deviceId: String
    package var pem: String
    package var notBefore: Int
    package var notAfter: Int
    package var revokedAt: Int?
    /// Why it is revoked, or `certificateHold` while on hold.
    package var reason: RevocationReason?
    /// The transparency-log index of the `certificate.issued` event (nil before migration 0005).
    package var logIndex: Int?
    /// The revocation generation that last changed its revocation (nil if none has, or before migration 0011).
    package var revocationGeneration: Int?

    package init(
        serial: String, deviceId: String, pem: String, notBefore: Int, notAfter: Int, revokedAt: Int? = nil, reason: RevocationReason? = nil,
        logIndex: Int? = nil, revocationGeneration: Int? = nil
    ) {
        self.serial = serial
        self.deviceId = deviceId
        self.pem = pem
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.revokedAt = revokedAt
        self.reason = reason
        self.logIndex = logIndex
        self.revocationGeneration = revocationGeneration
    }

    /// Whether it is on hold (revoked with reason certificateHold, which a reinstate lifts).
    package var isOnHold: Bool { revokedAt != nil && reason == .certificateHold }
}

/// The certificates issued to devices, and their revocations.
package struct CertificateRepository: Sendable {
    let sql: any SQLDatabase

    private struct Row: Codable {
        var serial: String
        var deviceId: String
        var pem: String
        var notBefore: Int
        var notAfter: Int
        var revokedAt: Int?
        var reason: Int?
        var logIndex: Int?
        var revocationGeneration: Int?
    }

    private static func record(_ row: Row) throws -> CertificateRecord {
        var reason: RevocationReason?
        if let code = row.reason {
            guard let known = RevocationReason(rawValue: code) else { throw StoreError.corrupt("certificate \(row.serial) has reason \(code)") }
            reason = known
        }
        return CertificateRecord(
            serial: row.serial, deviceId: row.deviceId, pem: row.pem, notBefore: row.notBefore, notAfter: row.notAfter, revokedAt: row.revokedAt,
            reason: reason, logIndex: row.logIndex, revocationGeneration: row.revocationGeneration)
    }

    /// Inserts several certificates in one statement.
    package func insert(_ certificates: [CertificateRecord]) async throws {
        guard !certificates.isEmpty else { return }
        let columns = ["serial", "device_id", "pem", "not_before", "not_after", "revoked_at", "reason", "log_index"]
        try await sql.insert(into: "certificates", columns: columns, rows: certificates) {
            [
                SQLBind($0.serial), SQLBind($0.deviceId), SQLBind($0.pem), SQLBind($0.notBefore), SQLBind($0.notAfter),
                SQLValues.bind($0.revokedAt), SQLValues.bind($0.reason?.rawValue), SQLValues.bind($0.logIndex),
            ]
        }
    }

    package func find(serial: String) async throws -> CertificateRecord? {
        try await sql.select().column("*").from("certificates").where("serial", .equal, serial)
            .first(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    /// A device's certificates, oldest first.
    package func of(deviceID: String) async throws -> [CertificateRecord] {
        try await sql.select().column("*").from("certificates").where("device_id", .equal, deviceID)
            .orderBy("not_before").orderBy("serial").all(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    /// The serials of the certificates of `deviceIDs` (at most a few hundred at a time) that are
    /// good at `now`: neither revoked, on hold nor expired; by device id.
    package func goodSerials(deviceIDs: [String], at now: Int) async throws -> [String: [String]] {
        guard !deviceIDs.isEmpty else { return [:] }
        let rows = try await sql.select().column("serial").column("device_id").from("certificates")
            .where("device_id", .in, deviceIDs).where("revoked_at", .is, SQLLiteral.null).where("not_after", .greaterThan, now)
            .orderBy("serial").all()
        var serials: [String: [String]] = [:]
        for row in rows {
            serials[try row.decode(column: "device_id", as: String.self), default: []].append(try row.decode(column: "serial", as: String.self))
        }
        return serials
    }

    /// Certificates revoked or on hold that have not expired at `now`, by serial: the CRL's entries.
    /// The condition on `revoked_at` is a range (revocation times are positive) and the rows are sorted
    /// here, not by the query: so both engines answer from `certificates_by_revocation` without
    /// statistics, where `IS NOT NULL` or `ORDER BY serial` was planned as a walk of every certificate.
    package func revoked(unexpiredAt now: Int) async throws -> [CertificateRecord] {
        try await sql.select().column("*").from("certificates")
            .where("revoked_at", .greaterThan, 0).where("not_after", .greaterThan, now)
            .all(decoding: Row.self, with: SQLValues.decoder).map(Self.record).sorted { $0.serial < $1.serial }
    }

    /// A page of the certificates unexpired at `now`, in serial order after `serial`: PEM and
    /// notAfter. Rare (a CA rotation walks them), so a walk is fine.
    package func unexpired(at now: Int, after serial: String, limit: Int) async throws -> [(serial: String, pem: String, notAfter: Int)] {
        try await sql.select().column("serial").column("pem").column("not_after").from("certificates")
            .where("not_after", .greaterThan, now).where("serial", .greaterThan, serial)
            .orderBy("serial").limit(limit)
            .all().map { (try $0.decode(column: "serial", as: String.self), try $0.decode(column: "pem", as: String.self), try $0.decode(column: "not_after", as: Int.self)) }
    }

    /// The certificates whose revocation changed in revocation generations after `generation`, with
    /// their state now (a lifted hold reads as not revoked).
    package func revocationChanges(after generation: Int) async throws -> [CertificateRecord] {
        try await sql.select().column("*").from("certificates")
            .where("revocation_generation", .greaterThan, generation)
            .orderBy("revocation_generation").all(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    /// The latest revocation generation that changed any certificate (0 if none has).
    package func latestRevocationGeneration() async throws -> Int {
        try await sql.select().column(SQLFunction("MAX", args: SQLColumn("revocation_generation")), as: "latest").from("certificates")
            .first(decodingColumn: "latest", as: Int?.self)?.flatMap { $0 } ?? 0
    }

    /// Revokes (or holds, with `certificateHold`) every good certificate of the device, in revocation
    /// generation `generation`. Returns the serials changed.
    @discardableResult
    package func revoke(deviceID: String, at: Int, reason: RevocationReason, generation: Int) async throws -> [String] {
        try await sql.update("certificates").set("revoked_at", to: at).set("reason", to: reason.rawValue)
            .set("revocation_generation", to: generation)
            .where("device_id", .equal, deviceID)
            .where("revoked_at", .is, SQLLiteral.null)
            .returning("serial").all(decodingColumn: "serial", as: String.self)
    }

    /// Changes the device's certificates on hold: to revoked for `reason`, or back to good when
    /// `reason` is nil. Returns the serials changed.
    @discardableResult
    package func resolveHolds(deviceID: String, at: Int, revokingFor reason: RevocationReason?, generation: Int) async throws -> [String] {
        let query = sql.update("certificates").set("revocation_generation", to: generation)
        if let reason {
            query.set("reason", to: reason.rawValue).set("revoked_at", to: at)
        } else {
            query.set("reason", to: SQLLiteral.null).set("revoked_at", to: SQLLiteral.null)
        }
        return try await query.where("device_id", .equal, deviceID).where("reason", .equal, RevocationReason.certificateHold.rawValue)
            .returning("serial").all(decodingColumn: "serial", as: String.self)
    }
}
