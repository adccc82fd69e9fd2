import Foundation
import VaporCSQLite
import VouchAPI
import VouchKit

/// A `vouch serve` data directory whose database holds a large fleet, written straight into SQLite
/// (the seeding fast path): `devices` devices spread over four groups (`groups`) and 16 zones
/// (`zone-0` … `zone-15`), each with a certificate and an identity credential; a share of them
/// revoked (with their revocation bits set) and half that share suspended. The rows are synthetic —
/// every certificate and credential row carries the PEM or token of one real enrollment under its
/// own serial or id — so they cost the tables what a fleet's rows do, but no seeded device can
/// connect. Revocations are stamped as before migration 0011 (no generation), so a server starting
/// on the directory loads them the way an upgraded one does. Seeded device `i` holds status index
/// `i`; the status index counter starts new enrollments after them.
enum ScaleData {
    struct Seeded: Sendable {
        let directory: String
        let devices: Int
        let revoked: Int
        let seconds: Double

        /// The enrollment groups the devices are spread over (round robin).
        static let groups = ["seed-a", "seed-b", "seed-c", "seed-d"]
        static let zones = 16
    }

    /// The seeded directory for `devices`, made once and kept for the benchmarks after (in the
    /// system's temporary folder; `scale-ratios.sh` removes it before and after a run).
    static func shared(devices: Int, revokedShare: Double) async throws -> Seeded {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-scale-template-\(devices)").path
        let marker = path + "/seeded"
        if let text = try? String(contentsOfFile: marker, encoding: .utf8) {
            let parts = text.split(separator: " ")
            if parts.count == 2, let revoked = Int(parts[0]), let seconds = Double(parts[1]) {
                return Seeded(directory: path, devices: devices, revoked: revoked, seconds: seconds)
            }
        }
        try? FileManager.default.removeItem(atPath: path)
        let made = try await template(devices: devices, revokedShare: revokedShare)
        try FileManager.default.moveItem(atPath: made.directory, toPath: path)
        try "\(made.revoked) \(made.seconds)".write(toFile: marker, atomically: true, encoding: .utf8)
        print("seeded \(devices) devices (\(made.revoked) revoked) in \(String(format: "%.1f", made.seconds)) s")
        return Seeded(directory: path, devices: devices, revoked: made.revoked, seconds: made.seconds)
    }

    static func template(devices: Int, revokedShare: Double) async throws -> Seeded {
        let started = ContinuousClock.now
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-scale-bench-\(UUID().uuidString)").path
        // Bootstrap the authority (keys, schema) and take one real certificate's PEM for the rows.
        let bootstrap = try await ServerFixture(devices: 1, connections: 1, dataDirectory: directory)
        guard let enrolled = try await bootstrap.enroll(on: bootstrap.connections[0]) else { fatalError("no enrollment answer") }
        guard let identityToken = enrolled.identityCredential else { fatalError("the enrollment gave no identity credential") }
        for name in Seeded.groups {
            _ = try await bootstrap.admin().createGroup(GroupRequest(name: name, unlimitedTokenUses: true))
        }
        await bootstrap.stop()

        var database: OpaquePointer?
        guard sqlite_nio_sqlite3_open_v2(directory + "/vouch.sqlite", &database, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let database else {
            fatalError("cannot open the template database")
        }
        defer { sqlite_nio_sqlite3_close(database) }
        func exec(_ sql: String) {
            guard sqlite_nio_sqlite3_exec(database, sql, nil, nil, nil) == SQLITE_OK else {
                fatalError("\(sql): \(String(cString: sqlite_nio_sqlite3_errmsg(database)))")
            }
        }
        func prepare(_ sql: String) -> OpaquePointer {
            var statement: OpaquePointer?
            guard sqlite_nio_sqlite3_prepare_v2(database, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
                fatalError("\(sql): \(String(cString: sqlite_nio_sqlite3_errmsg(database)))")
            }
            return statement
        }
        func step(_ statement: OpaquePointer, _ what: String) {
            guard sqlite_nio_sqlite3_step(statement) == SQLITE_DONE else {
                fatalError("\(what): \(String(cString: sqlite_nio_sqlite3_errmsg(database)))")
            }
            sqlite_nio_sqlite3_reset(statement)
        }
        exec("PRAGMA cache_size = -1000000")
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let groupIDs = Seeded.groups.map { group in
            let query = prepare("SELECT id FROM enrollment_groups WHERE name = ?")
            defer { sqlite_nio_sqlite3_finalize(query) }
            sqlite_nio_sqlite3_bind_text(query, 1, group, -1, transient)
            guard sqlite_nio_sqlite3_step(query) == SQLITE_ROW, let text = sqlite_nio_sqlite3_column_text(query, 0) else { fatalError("no group \(group)") }
            return String(cString: text)
        }

        let insertDevice = prepare(
            "INSERT INTO devices (id, group_id, zone, state, did, key_thumbprint, public_key, attributes, roles, previous_dids, created_at, updated_at) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, '{}', '[]', '[]', ?, ?)")
        let insertCertificate = prepare(
            "INSERT INTO certificates (serial, device_id, pem, not_before, not_after, revoked_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?)")
        let insertCredential = prepare(
            "INSERT INTO credentials (id, device_id, type, token, status_index, issued_at, expires_at) VALUES (?, ?, 'DeviceIdentityCredential', ?, ?, ?, ?)")
        let insertBit = prepare("INSERT INTO status_bits (purpose, idx, set_at) VALUES (?, ?, ?)")
        let now = Int64(Date().timeIntervalSince1970)
        let publicKey = #"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
        var random = SystemRandomNumberGenerator()
        let revokedEvery = revokedShare > 0 ? max(1, Int((1 / revokedShare).rounded())) : Int.max
        var revoked = 0
        exec("BEGIN")
        for index in 0..<devices {
            let id = "dev_seed\(index)"
            let isRevoked = index % revokedEvery == revokedEvery - 1
            let isSuspended = !isRevoked && index % (2 * revokedEvery) == revokedEvery / 2
            let thumbprint = (0..<4).map { _ in String(format: "%016llx", random.next() as UInt64) }.joined()
            sqlite_nio_sqlite3_bind_text(insertDevice, 1, id, -1, transient)
            sqlite_nio_sqlite3_bind_text(insertDevice, 2, groupIDs[index % groupIDs.count], -1, transient)
            sqlite_nio_sqlite3_bind_text(insertDevice, 3, "zone-\(index % Seeded.zones)", -1, transient)
            sqlite_nio_sqlite3_bind_text(insertDevice, 4, isRevoked ? "revoked" : isSuspended ? "suspended" : "active", -1, transient)
            sqlite_nio_sqlite3_bind_text(insertDevice, 5, "did:key:zSeed" + thumbprint, -1, transient)
            sqlite_nio_sqlite3_bind_text(insertDevice, 6, thumbprint, -1, transient)
            sqlite_nio_sqlite3_bind_text(insertDevice, 7, publicKey, -1, transient)
            sqlite_nio_sqlite3_bind_int64(insertDevice, 8, now - 86_400)
            sqlite_nio_sqlite3_bind_int64(insertDevice, 9, now - 86_400)
            step(insertDevice, "inserting device \(index)")

            sqlite_nio_sqlite3_bind_text(insertCredential, 1, "cred_seed\(index)", -1, transient)
            sqlite_nio_sqlite3_bind_text(insertCredential, 2, id, -1, transient)
            sqlite_nio_sqlite3_bind_text(insertCredential, 3, identityToken, -1, transient)
            sqlite_nio_sqlite3_bind_int64(insertCredential, 4, Int64(index))
            sqlite_nio_sqlite3_bind_int64(insertCredential, 5, now - 86_400)
            sqlite_nio_sqlite3_bind_int64(insertCredential, 6, now + 364 * 86_400)
            step(insertCredential, "inserting credential \(index)")

            var serial = (0..<2).map { _ in String(format: "%016llx", random.next() as UInt64) }.joined()
            serial = "4" + serial.dropFirst()  // positive, no leading zero byte
            sqlite_nio_sqlite3_bind_text(insertCertificate, 1, serial, -1, transient)
            sqlite_nio_sqlite3_bind_text(insertCertificate, 2, id, -1, transient)
            sqlite_nio_sqlite3_bind_text(insertCertificate, 3, enrolled.certificatePEM, -1, transient)
            sqlite_nio_sqlite3_bind_int64(insertCertificate, 4, now - 86_400)
            sqlite_nio_sqlite3_bind_int64(insertCertificate, 5, now + 89 * 86_400)
            if isRevoked {
                sqlite_nio_sqlite3_bind_int64(insertCertificate, 6, now - 3600)
                sqlite_nio_sqlite3_bind_int64(insertCertificate, 7, 1)  // keyCompromise
                revoked += 1
            } else {
                sqlite_nio_sqlite3_bind_null(insertCertificate, 6)
                sqlite_nio_sqlite3_bind_null(insertCertificate, 7)
            }
            step(insertCertificate, "inserting certificate \(index)")
            if isRevoked || isSuspended {
                sqlite_nio_sqlite3_bind_text(insertBit, 1, isRevoked ? "revocation" : "suspension", -1, transient)
                sqlite_nio_sqlite3_bind_int64(insertBit, 2, Int64(index))
                sqlite_nio_sqlite3_bind_int64(insertBit, 3, now - 3600)
                step(insertBit, "setting the bit of \(index)")
            }
        }
        for statement in [insertDevice, insertCertificate, insertCredential, insertBit] { sqlite_nio_sqlite3_finalize(statement) }
        // New enrollments take status indexes after the seeded ones, from a list of their own.
        let listSize = Int64(BitstringStatusList.minimumSize)
        exec("UPDATE counters SET value = \((Int64(devices) + listSize - 1) / listSize * listSize + listSize) WHERE name = 'status_index'")
        exec("COMMIT")
        exec("PRAGMA wal_checkpoint(TRUNCATE)")
        let elapsed = ContinuousClock.now - started
        return Seeded(
            directory: directory, devices: devices, revoked: revoked,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
