import SQLKit
import VouchCore
import VouchKit

/// A certificate whose revocation changed, with its device.
package struct CertificateRevocationChange: Sendable, Hashable {
    package var serial: String
    package var revokedAt: Int?
    package var reason: RevocationReason?
    package var generation: Int
    package var deviceID: String
    package var did: String
}

/// A status bit that changed, with the device whose credential it is (when one is).
package struct StatusBitFeedChange: Sendable, Hashable {
    package var change: StatusBitChange
    package var deviceID: String?
    package var did: String?
}

/// What the revocation stream reads: the certificates and status bits changed by revocation
/// generations in a window, each with its device, oldest generation first. A row changed again
/// later carries the later generation: a client gets each one's state as of its last change.
package struct RevocationFeedRepository: Sendable {
    let sql: any SQLDatabase

    package func certificates(after: Int, through: Int) async throws -> [CertificateRevocationChange] {
        try await sql.raw(
            #"SELECT c."serial", c."revoked_at", c."reason", c."revocation_generation", c."device_id", d."did" FROM "certificates" AS c JOIN "devices" AS d ON d."id" = c."device_id" WHERE c."revocation_generation" > \#(bind: after) AND c."revocation_generation" <= \#(bind: through) ORDER BY c."revocation_generation", c."serial""#
        ).all().map { row in
            let code = try row.decodeNil(column: "reason") ? nil : try row.decode(column: "reason", as: Int.self)
            return CertificateRevocationChange(
                serial: try row.decode(column: "serial", as: String.self),
                revokedAt: try row.decodeNil(column: "revoked_at") ? nil : try row.decode(column: "revoked_at", as: Int.self),
                reason: code.flatMap { RevocationReason(rawValue: $0) }, generation: try row.decode(column: "revocation_generation", as: Int.self),
                deviceID: try row.decode(column: "device_id", as: String.self), did: try row.decode(column: "did", as: String.self))
        }
    }

    package func statusBits(after: Int, through: Int) async throws -> [StatusBitFeedChange] {
        try await sql.raw(
            #"SELECT b."purpose", b."idx", b."cleared", b."generation", cr."device_id", d."did" FROM "status_bits" AS b LEFT JOIN "credentials" AS cr ON cr."status_index" = b."idx" LEFT JOIN "devices" AS d ON d."id" = cr."device_id" WHERE b."generation" > \#(bind: after) AND b."generation" <= \#(bind: through) ORDER BY b."generation", b."purpose", b."idx""#
        ).all().map { row in
            let purposeText = try row.decode(column: "purpose", as: String.self)
            guard let purpose = StatusPurpose(rawValue: purposeText) else { throw StoreError.corrupt("a status bit has purpose \(purposeText)") }
            return StatusBitFeedChange(
                change: StatusBitChange(
                    purpose: purpose, index: try row.decode(column: "idx", as: Int.self), isSet: try row.decode(column: "cleared", as: Int.self) == 0,
                    generation: try row.decode(column: "generation", as: Int.self)),
                deviceID: try row.decodeNil(column: "device_id") ? nil : try row.decode(column: "device_id", as: String.self),
                did: try row.decodeNil(column: "did") ? nil : try row.decode(column: "did", as: String.self))
        }
    }
}
