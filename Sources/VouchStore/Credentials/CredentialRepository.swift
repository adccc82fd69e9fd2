import SQLKit
import VouchCore

/// A credential issued to a device.
package struct CredentialRecord: Sendable, Hashable {
    package var id: String
    package var deviceId: String
    package var kind: CredentialKind
    /// The `vc+jwt`.
    package var token: String
    /// Where its bits are in the revocation and suspension lists.
    package var statusIndex: Int
    package var issuedAt: Int
    package var expiresAt: Int
    /// The transparency-log index of the `credential.issued` event (nil before migration 0005).
    package var logIndex: Int?

    package init(
        id: String, deviceId: String, kind: CredentialKind, token: String, statusIndex: Int, issuedAt: Int, expiresAt: Int, logIndex: Int? = nil
    ) {
        self.id = id
        self.deviceId = deviceId
        self.kind = kind
        self.token = token
        self.statusIndex = statusIndex
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.logIndex = logIndex
    }
}

/// The credentials issued to devices.
package struct CredentialRepository: Sendable {
    let sql: any SQLDatabase

    private struct Row: Codable {
        var id: String
        var deviceId: String
        var type: String
        var token: String
        var statusIndex: Int
        var issuedAt: Int
        var expiresAt: Int
        var logIndex: Int?
    }

    private static func record(_ row: Row) throws -> CredentialRecord {
        guard let kind = CredentialKind(rawValue: row.type) else { throw StoreError.corrupt("credential \(row.id) has type \(row.type)") }
        return CredentialRecord(
            id: row.id, deviceId: row.deviceId, kind: kind, token: row.token, statusIndex: row.statusIndex, issuedAt: row.issuedAt,
            expiresAt: row.expiresAt, logIndex: row.logIndex)
    }

    /// Inserts several credentials in one statement.
    package func insert(_ credentials: [CredentialRecord]) async throws {
        guard !credentials.isEmpty else { return }
        let columns = ["id", "device_id", "type", "token", "status_index", "issued_at", "expires_at", "log_index"]
        try await sql.insert(into: "credentials", columns: columns, rows: credentials) {
            [
                SQLBind($0.id), SQLBind($0.deviceId), SQLBind($0.kind.rawValue), SQLBind($0.token), SQLBind($0.statusIndex), SQLBind($0.issuedAt),
                SQLBind($0.expiresAt), SQLValues.bind($0.logIndex),
            ]
        }
    }

    /// A device's credentials, oldest first.
    package func of(deviceID: String) async throws -> [CredentialRecord] {
        try await sql.select().column("*").from("credentials").where("device_id", .equal, deviceID)
            .orderBy("issued_at").orderBy("id").all(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    /// The distinct status indexes of the device's credentials.
    package func statusIndexes(deviceID: String) async throws -> [Int] {
        try await sql.select().distinct().column("status_index").from("credentials").where("device_id", .equal, deviceID)
            .orderBy("status_index").all(decodingColumn: "status_index", as: Int.self)
    }
}
