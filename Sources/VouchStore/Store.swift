import Foundation
import Logging
import SQLKit
import VouchCore
import VouchKit

/// The authority's records, over SQLite or PostgreSQL. Reads and writes go through `read` and
/// `transaction`; the operations on `StoreSession` are the only SQL the server runs.
package struct Store: Sendable {
    package let database: VouchDatabase

    package init(database: VouchDatabase) {
        self.database = database
    }

    /// Runs `body` in one transaction: everything it writes lands together or not at all.
    package func transaction<R: Sendable>(_ body: @escaping @Sendable (StoreSession) async throws -> R) async throws -> R {
        try await database.transaction { try await body(StoreSession(sql: $0)) }
    }

    /// Runs one statement that needs no transaction around it (it commits by itself).
    package func write<R: Sendable>(_ body: @escaping @Sendable (StoreSession) async throws -> R) async throws -> R {
        try await database.write { try await body(StoreSession(sql: $0)) }
    }

    /// Runs read-only `body`. Its statements are not one snapshot (see `VouchDatabase.read`).
    package func read<R: Sendable>(_ body: @escaping @Sendable (StoreSession) async throws -> R) async throws -> R {
        try await database.read { try await body(StoreSession(sql: $0)) }
    }
}

/// The operations on one database session (inside a transaction, for writes).
package struct StoreSession: Sendable {
    let sql: any SQLDatabase

    static let decoder = SQLRowDecoder(keyDecodingStrategy: .convertFromSnakeCase)

    /// A multi-row insert with the columns named and each row's values bound in their order. The
    /// hot inserts say their columns rather than go through SQLKit's `Codable` model encoder, which
    /// converts every key to snake case on every row.
    private func insert<Row>(
        into table: String, columns: [String], rows: [Row], values: (Row) -> [any SQLExpression]
    ) async throws {
        let query = sql.insert(into: table).columns(columns)
        for row in rows {
            query.values(values(row))
        }
        try await query.run()
    }

    /// A bound value, or SQL NULL.
    private static func bind(_ value: Int?) -> any SQLExpression {
        value.map { SQLBind($0) as any SQLExpression } ?? SQLLiteral.null
    }

    // MARK: Counters and events

    /// The next value of a gap-free counter. The update locks the counter's row until the transaction
    /// ends, so concurrent transactions take consecutive values and a rolled-back one leaves no gap.
    package func next(_ counter: String) async throws -> Int {
        try await advance(counter, by: 1)
    }

    /// The current value of a counter.
    package func current(_ counter: String) async throws -> Int {
        try await sql.select().column("value").from("counters").where("name", .equal, counter)
            .first(decodingColumn: "value", as: Int.self) ?? 0
    }

    /// Advances a gap-free counter by `count` and returns its new value (the last one taken).
    package func advance(_ counter: String, by count: Int) async throws -> Int {
        let row = try await sql.update("counters")
            .set("value", to: SQLBinaryExpression(SQLColumn("value"), .add, SQLLiteral.numeric(String(count))))
            .where("name", .equal, counter)
            .returning("value")
            .first()
        guard let row else { throw StoreError.corrupt("counter \(counter) is missing") }
        return try row.decode(column: "value", as: Int.self)
    }

    /// Appends events with consecutive sequence numbers in two statements (one counter update, one
    /// multi-row insert), in the order given.
    @discardableResult
    package func appendEvents(
        _ drafts: [(kind: String, subject: String, actor: String, data: String)], at: Int
    ) async throws -> [EventRow] {
        guard !drafts.isEmpty else { return [] }
        let last = try await advance("events", by: drafts.count)
        let first = last - drafts.count + 1
        let events = drafts.enumerated().map { offset, draft in
            EventRow(seq: first + offset, at: at, kind: draft.kind, subject: draft.subject, actor: draft.actor, data: draft.data)
        }
        try await insert(into: "events", columns: ["seq", "at", "kind", "subject", "actor", "data"], rows: events) {
            [SQLBind($0.seq), SQLBind($0.at), SQLBind($0.kind), SQLBind($0.subject), SQLBind($0.actor), SQLBind($0.data)]
        }
        return events
    }

    /// Events with a sequence number above `after`, oldest first.
    package func events(after: Int, limit: Int) async throws -> [EventRow] {
        try await sql.select().column("*").from("events").where("seq", .greaterThan, after)
            .orderBy("seq").limit(limit).all(decoding: EventRow.self, with: Self.decoder)
    }

    // MARK: Transparency log

    /// Stores tree nodes, several hundred to a statement.
    package func insertLogNodes(_ nodes: [(node: MerkleNode, hash: MerkleHash)]) async throws {
        for start in stride(from: 0, to: nodes.count, by: 500) {
            let chunk = nodes[start..<min(start + 500, nodes.count)]
            try await insert(into: "log_nodes", columns: ["level", "idx", "hash"], rows: Array(chunk)) {
                [SQLBind($0.node.level), SQLBind(Int64(bitPattern: $0.node.index)), SQLBind(Data($0.hash.bytes))]
            }
        }
    }

    /// The hashes of `nodes` that are stored, by node, in one statement: a disjunction of
    /// primary-key lookups, which SQLite and PostgreSQL both answer from the index term by term.
    package func logNodes(_ nodes: [MerkleNode]) async throws -> [MerkleNode: MerkleHash] {
        var found: [MerkleNode: MerkleHash] = [:]
        for start in stride(from: 0, to: nodes.count, by: 200) {
            let chunk = nodes[start..<min(start + 200, nodes.count)]
            var query = SQLQueryString("SELECT level, idx, hash FROM log_nodes WHERE ")
            for (position, node) in chunk.enumerated() {
                if position > 0 { query.appendLiteral(" OR ") }
                query.appendInterpolation(unsafeRaw: "(level = ")
                query.appendInterpolation(bind: node.level)
                query.appendInterpolation(unsafeRaw: " AND idx = ")
                query.appendInterpolation(bind: Int64(bitPattern: node.index))
                query.appendInterpolation(unsafeRaw: ")")
            }
            for row in try await sql.raw(query).all() {
                let node = MerkleNode(level: try row.decode(column: "level", as: Int.self), index: UInt64(bitPattern: try row.decode(column: "idx", as: Int64.self)))
                found[node] = try MerkleHash(bytes: try row.decode(column: "hash", as: Data.self))
            }
        }
        return found
    }

    /// The node hashes of tree level `level` from index `first`, `count` of them, in order (a tile).
    package func logNodes(level: Int, from first: UInt64, count: Int) async throws -> [MerkleHash] {
        try await sql.select().column("hash").from("log_nodes").where("level", .equal, level)
            .where("idx", .greaterThanOrEqual, Int64(bitPattern: first)).where("idx", .lessThan, Int64(bitPattern: first + UInt64(count)))
            .orderBy("idx").all(decodingColumn: "hash", as: Data.self).map { try MerkleHash(bytes: $0) }
    }

    /// Records a published checkpoint. A second checkpoint of the same size fails (primary key).
    package func insertCheckpoint(size: UInt64, root: MerkleHash, note: String, at: Int) async throws {
        try await sql.insert(into: "log_checkpoints").columns("size", "root", "note", "published_at")
            .values(SQLBind(Int64(bitPattern: size)), SQLBind(Data(root.bytes)), SQLBind(note), SQLBind(at)).run()
    }

    /// The latest published checkpoint: its size, root and signed note.
    package func latestCheckpoint() async throws -> (size: UInt64, root: MerkleHash, note: String)? {
        guard let row = try await sql.select().columns("size", "root", "note").from("log_checkpoints").orderBy("size", .descending).limit(1).first()
        else { return nil }
        return (
            UInt64(bitPattern: try row.decode(column: "size", as: Int64.self)), try MerkleHash(bytes: try row.decode(column: "root", as: Data.self)),
            try row.decode(column: "note", as: String.self)
        )
    }

    /// The number of entries the stored tree holds: one past the highest leaf stored.
    package func logSize() async throws -> UInt64 {
        let rows = try await sql.select().column("idx").from("log_nodes").where("level", .equal, 0)
            .orderBy("idx", .descending).limit(1).all(decodingColumn: "idx", as: Int64.self)
        return rows.first.map { UInt64(bitPattern: $0) + 1 } ?? 0
    }

    /// Makes the log's writers take turns across nodes: on PostgreSQL a transaction-scoped advisory
    /// lock; on SQLite the writer lock the transaction already holds.
    package func lockLog() async throws {
        if sql.dialect.name == "postgresql" {
            try await sql.raw("SELECT pg_advisory_xact_lock(\(literal: Self.logLockKey))").run()
        }
    }

    /// The advisory lock key of the log's sequencer ("vlog" in ASCII).
    static let logLockKey = 0x766C_6F67

    /// The newest checkpoint signed and waiting for witnesses' cosignatures.
    package func pendingCheckpoint() async throws -> (size: UInt64, note: String, createdAt: Int)? {
        guard let row = try await sql.select().columns("size", "note", "created_at").from("log_pending").orderBy("size", .descending).limit(1).first()
        else { return nil }
        return (
            UInt64(bitPattern: try row.decode(column: "size", as: Int64.self)), try row.decode(column: "note", as: String.self),
            try row.decode(column: "created_at", as: Int.self)
        )
    }

    /// Keeps a signed checkpoint until enough witnesses cosign it; older ones are dropped.
    package func insertPendingCheckpoint(size: UInt64, note: String, at: Int) async throws {
        try await sql.delete(from: "log_pending").where("size", .lessThan, Int64(bitPattern: size)).run()
        try await sql.delete(from: "log_cosignatures").where("size", .lessThan, Int64(bitPattern: size)).run()
        try await sql.insert(into: "log_pending").columns("size", "note", "created_at")
            .values(SQLBind(Int64(bitPattern: size)), SQLBind(note), SQLBind(at)).run()
    }

    /// Records a witness's cosignature line for the pending checkpoint of `size`, replacing an
    /// earlier one of that witness; returns every witness's line for that size.
    package func addCosignature(size: UInt64, witness: String, line: String, at: Int) async throws -> [String: String] {
        try await sql.delete(from: "log_cosignatures").where("size", .equal, Int64(bitPattern: size)).where("witness", .equal, witness).run()
        try await sql.insert(into: "log_cosignatures").columns("size", "witness", "line", "received_at")
            .values(SQLBind(Int64(bitPattern: size)), SQLBind(witness), SQLBind(line), SQLBind(at)).run()
        var lines: [String: String] = [:]
        for row in try await sql.select().columns("witness", "line").from("log_cosignatures").where("size", .equal, Int64(bitPattern: size)).all() {
            lines[try row.decode(column: "witness", as: String.self)] = try row.decode(column: "line", as: String.self)
        }
        return lines
    }

    /// Forgets pending checkpoints and cosignatures up to and including `size` (once it is published).
    package func clearPending(through size: UInt64) async throws {
        try await sql.delete(from: "log_pending").where("size", .lessThanOrEqual, Int64(bitPattern: size)).run()
        try await sql.delete(from: "log_cosignatures").where("size", .lessThanOrEqual, Int64(bitPattern: size)).run()
    }

    // MARK: Nonces

    /// The digests among `digests` of nonces already spent.
    package func spentNonces(digests: [String]) async throws -> Set<String> {
        guard !digests.isEmpty else { return [] }
        return Set(try await sql.select().column("digest").from("spent_nonces").where("digest", .in, digests)
            .all(decodingColumn: "digest", as: String.self))
    }

    /// Records nonces as spent, in one statement. A nonce spent already makes it fail (primary key).
    package func spendNonces(_ nonces: [(digest: String, expiresAt: Int)]) async throws {
        guard !nonces.isEmpty else { return }
        let query = sql.insert(into: "spent_nonces").columns("digest", "expires_at")
        for nonce in nonces {
            query.values(SQLBind(nonce.digest), SQLBind(nonce.expiresAt))
        }
        try await query.run()
    }

    /// Records one nonce as spent; false when it was spent already. Never fails on the duplicate, so
    /// a transaction that spends a nonce stays usable on PostgreSQL too.
    package func spendNonce(digest: String, expiresAt: Int) async throws -> Bool {
        try await sql.insert(into: "spent_nonces").columns("digest", "expires_at").values(SQLBind(digest), SQLBind(expiresAt))
            .ignoringConflicts(with: ["digest"]).returning("digest").first() != nil
    }

    /// Forgets spent nonces that have expired (they are refused on their expiry alone).
    package func purgeSpentNonces(before: Int) async throws {
        try await sql.delete(from: "spent_nonces").where("expires_at", .lessThanOrEqual, before).run()
    }

    // MARK: API keys

    package func insert(_ key: APIKeyRow) async throws {
        try await sql.insert(into: "api_keys").model(key, keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil).run()
    }

    package func apiKey(secretHash: String) async throws -> APIKeyRow? {
        try await sql.select().column("*").from("api_keys").where("secret_hash", .equal, secretHash)
            .first(decoding: APIKeyRow.self, with: Self.decoder)
    }

    package func apiKeys() async throws -> [APIKeyRow] {
        try await sql.select().column("*").from("api_keys").orderBy("created_at").orderBy("id")
            .all(decoding: APIKeyRow.self, with: Self.decoder)
    }

    /// The keys not revoked, locked until the transaction ends on PostgreSQL (SQLite serialises
    /// writers anyway), so that a check over them (the last admin key) holds when the change commits.
    package func liveAPIKeysForUpdate() async throws -> [APIKeyRow] {
        let query = sql.select().column("*").from("api_keys").where("revoked_at", .is, SQLLiteral.null).orderBy("id")
        if sql.dialect.name == "postgresql" { query.for(.update) }
        return try await query.all(decoding: APIKeyRow.self, with: Self.decoder)
    }

    /// Marks the key revoked; false when it does not exist or already was.
    package func revokeAPIKey(id: String, at: Int) async throws -> Bool {
        let row = try await sql.update("api_keys").set("revoked_at", to: at)
            .where("id", .equal, id).where("revoked_at", .is, SQLLiteral.null)
            .returning("id").first()
        return row != nil
    }

    // MARK: Policies

    /// The policy in force: the highest version.
    package func latestPolicy() async throws -> PolicyRow? {
        try await sql.select().column("*").from("policies").orderBy("version", .descending).limit(1)
            .first(decoding: PolicyRow.self, with: Self.decoder)
    }

    package func policy(version: Int) async throws -> PolicyRow? {
        try await sql.select().column("*").from("policies").where("version", .equal, version)
            .first(decoding: PolicyRow.self, with: Self.decoder)
    }

    /// Versions, newest first, without their text.
    package func policyVersions(limit: Int) async throws -> [(version: Int, digest: String, createdAt: Int, actor: String)] {
        try await sql.select().columns("version", "digest", "created_at", "actor").from("policies")
            .orderBy("version", .descending).limit(limit).all().map {
                (
                    try $0.decode(column: "version", as: Int.self), try $0.decode(column: "digest", as: String.self),
                    try $0.decode(column: "created_at", as: Int.self), try $0.decode(column: "actor", as: String.self)
                )
            }
    }

    /// Inserts a version; the primary key refuses a version written meanwhile by another node.
    package func insert(_ policy: PolicyRow) async throws {
        try await sql.insert(into: "policies").columns("version", "source", "digest", "created_at", "actor")
            .values(SQLBind(policy.version), SQLBind(policy.source), SQLBind(policy.digest), SQLBind(policy.createdAt), SQLBind(policy.actor))
            .run()
    }

    /// Subjects and kinds of events after `seq`, oldest first: what caches follow.
    package func eventSubjects(after seq: Int, limit: Int) async throws -> [(seq: Int, kind: String, subject: String)] {
        try await sql.select().columns("seq", "kind", "subject").from("events").where("seq", .greaterThan, seq)
            .orderBy("seq").limit(limit).all().map {
                (try $0.decode(column: "seq", as: Int.self), try $0.decode(column: "kind", as: String.self), try $0.decode(column: "subject", as: String.self))
            }
    }

    // MARK: Firmware

    package func insert(_ firmware: FirmwareRow) async throws {
        try await sql.insert(into: "firmware").columns("digest", "model", "version", "status", "created_at", "updated_at")
            .values(
                SQLBind(firmware.digest), SQLBind(firmware.model), SQLBind(firmware.version), SQLBind(firmware.status),
                SQLBind(firmware.createdAt), SQLBind(firmware.updatedAt)
            ).run()
    }

    package func firmware(digest: String) async throws -> FirmwareRow? {
        try await sql.select().column("*").from("firmware").where("digest", .equal, digest)
            .first(decoding: FirmwareRow.self, with: Self.decoder)
    }

    package func firmware() async throws -> [FirmwareRow] {
        try await sql.select().column("*").from("firmware").orderBy("model").orderBy("version")
            .all(decoding: FirmwareRow.self, with: Self.decoder)
    }

    /// Marks a measurement revoked, and the devices that last reported it; returns those devices.
    package func revokeFirmware(digest: String, at: Int) async throws -> [String] {
        try await sql.update("firmware").set("status", to: "revoked").set("updated_at", to: at).where("digest", .equal, digest).run()
        let devices = try await sql.select().column("device_id").from("device_firmware").where("digest", .equal, digest).all()
            .map { try $0.decode(column: "device_id", as: String.self) }
        try await sql.update("device_firmware").set("status", to: "revoked").where("digest", .equal, digest).run()
        return devices
    }

    package func deviceFirmware(deviceID: String) async throws -> DeviceFirmwareRow? {
        try await sql.select().column("*").from("device_firmware").where("device_id", .equal, deviceID)
            .first(decoding: DeviceFirmwareRow.self, with: Self.decoder)
    }

    /// Replaces the device's latest report.
    package func record(_ report: DeviceFirmwareRow) async throws {
        try await sql.delete(from: "device_firmware").where("device_id", .equal, report.deviceId).run()
        try await sql.insert(into: "device_firmware").columns("device_id", "digest", "version", "status", "phase", "reported_at")
            .values(
                SQLBind(report.deviceId), SQLBind(report.digest), SQLBind(report.version), SQLBind(report.status), SQLBind(report.phase),
                SQLBind(report.reportedAt)
            ).run()
    }

    // MARK: Step-up

    /// How many devices a factory certificate has vouched for that still stand (not revoked or
    /// decommissioned).
    package func standingDevices(factoryCertificate fingerprint: String) async throws -> Int {
        try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from("factory_certificates")
            .join("devices", on: SQLColumn("id", table: "devices"), .equal, SQLColumn("device_id", table: "factory_certificates"))
            .where(SQLColumn("fingerprint", table: "factory_certificates"), .equal, SQLBind(fingerprint))
            .where(SQLColumn("state", table: "devices"), .notIn, SQLGroupExpression([SQLBind("revoked"), SQLBind("decommissioned")]))
            .first(decodingColumn: "n", as: Int.self) ?? 0
    }

    /// Records the factory certificate that vouched for a device.
    package func recordFactoryCertificate(deviceID: String, fingerprint: String, at: Int) async throws {
        try await sql.insert(into: "factory_certificates").columns("device_id", "fingerprint", "created_at")
            .values(SQLBind(deviceID), SQLBind(fingerprint), SQLBind(at)).run()
    }

    /// The factory certificate (SHA-256 of its DER, hex) that vouched for a device, if one did.
    package func factoryCertificate(deviceID: String) async throws -> String? {
        try await sql.select().column("fingerprint").from("factory_certificates").where("device_id", .equal, deviceID)
            .first(decodingColumn: "fingerprint", as: String.self)
    }

    /// A secret the authority keeps in the database (hex), if there is one by that name.
    package func secret(_ name: String) async throws -> String? {
        try await sql.select().column("value").from("secrets").where("name", .equal, name).first(decodingColumn: "value", as: String.self)
    }

    /// Asks the device to step up at its next authentication (kept if already asked).
    package func requireStepUp(deviceID: String, at: Int, cause: String) async throws {
        guard try await stepUp(deviceID: deviceID) == nil else { return }
        try await sql.insert(into: "step_ups").columns("device_id", "required_at", "cause")
            .values(SQLBind(deviceID), SQLBind(at), SQLBind(cause)).run()
    }

    /// The step-up asked of the device, if any.
    package func stepUp(deviceID: String) async throws -> StepUpRow? {
        try await sql.select().column("*").from("step_ups").where("device_id", .equal, deviceID)
            .first(decoding: StepUpRow.self, with: Self.decoder)
    }

    package func clearStepUp(deviceID: String) async throws {
        try await sql.delete(from: "step_ups").where("device_id", .equal, deviceID).run()
    }

    // MARK: Groups

    package func insert(_ group: GroupRow) async throws {
        try await sql.insert(into: "enrollment_groups").model(group, keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil).run()
    }

    package func update(_ group: GroupRow) async throws {
        try await sql.update("enrollment_groups")
            .set("token_hash", to: group.tokenHash)
            .set("token_uses_left", to: group.tokenUsesLeft)
            .set("settings", to: group.settings)
            .set("disabled", to: group.disabled)
            .set("updated_at", to: group.updatedAt)
            .where("id", .equal, group.id).run()
    }

    package func group(id: String) async throws -> GroupRow? {
        try await sql.select().column("*").from("enrollment_groups").where("id", .equal, id)
            .first(decoding: GroupRow.self, with: Self.decoder)
    }

    package func group(name: String) async throws -> GroupRow? {
        try await sql.select().column("*").from("enrollment_groups").where("name", .equal, name)
            .first(decoding: GroupRow.self, with: Self.decoder)
    }

    package func groups() async throws -> [GroupRow] {
        try await sql.select().column("*").from("enrollment_groups").orderBy("name")
            .all(decoding: GroupRow.self, with: Self.decoder)
    }

    /// Takes one use of a limited claim token. False when none is left.
    package func takeTokenUse(groupID: String) async throws -> Bool {
        let row = try await sql.update("enrollment_groups")
            .set("token_uses_left", to: SQLBinaryExpression(SQLColumn("token_uses_left"), .subtract, SQLLiteral.numeric("1")))
            .where("id", .equal, groupID).where("token_uses_left", .greaterThan, 0)
            .returning("token_uses_left").first()
        return row != nil
    }

    // MARK: Devices

    /// Inserts several devices in one statement.
    package func insert(devices: [DeviceRow]) async throws {
        guard !devices.isEmpty else { return }
        let columns = [
            "id", "group_id", "zone", "state", "did", "key_thumbprint", "public_key", "attributes", "roles", "previous_dids", "created_at",
            "updated_at",
        ]
        try await insert(into: "devices", columns: columns, rows: devices) {
            [
                SQLBind($0.id), SQLBind($0.groupId), SQLBind($0.zone), SQLBind($0.state), SQLBind($0.did), SQLBind($0.keyThumbprint),
                SQLBind($0.publicKey), SQLBind($0.attributes), SQLBind($0.roles), SQLBind($0.previousDids), SQLBind($0.createdAt),
                SQLBind($0.updatedAt),
            ]
        }
    }

    /// The ids of devices holding any of `keyThumbprints`, by thumbprint.
    package func deviceIDs(keyThumbprints: [String]) async throws -> [String: String] {
        guard !keyThumbprints.isEmpty else { return [:] }
        let rows = try await sql.select().column("id").column("key_thumbprint").from("devices")
            .where("key_thumbprint", .in, keyThumbprints).all()
        var ids: [String: String] = [:]
        for row in rows {
            ids[try row.decode(column: "key_thumbprint", as: String.self)] = try row.decode(column: "id", as: String.self)
        }
        return ids
    }

    package func update(_ device: DeviceRow) async throws {
        try await sql.update("devices")
            .set("zone", to: device.zone)
            .set("state", to: device.state)
            .set("did", to: device.did)
            .set("key_thumbprint", to: device.keyThumbprint)
            .set("public_key", to: device.publicKey)
            .set("attributes", to: device.attributes)
            .set("roles", to: device.roles)
            .set("previous_dids", to: device.previousDids)
            .set("updated_at", to: device.updatedAt)
            .where("id", .equal, device.id).run()
    }

    /// The device `id`. With `forUpdate`, its row stays locked until the transaction ends, so that
    /// read-modify-write changes (lifecycle, renewal, rotation) of one device run one after another
    /// on PostgreSQL; SQLite's dialect has no row locks and serialises writers anyway.
    package func device(id: String, forUpdate: Bool = false) async throws -> DeviceRow? {
        let query = sql.select().column("*").from("devices").where("id", .equal, id)
        if forUpdate { query.for(.update) }
        return try await query.first(decoding: DeviceRow.self, with: Self.decoder)
    }

    package func device(did: String) async throws -> DeviceRow? {
        try await sql.select().column("*").from("devices").where("did", .equal, did)
            .first(decoding: DeviceRow.self, with: Self.decoder)
    }

    package func device(keyThumbprint: String) async throws -> DeviceRow? {
        try await sql.select().column("*").from("devices").where("key_thumbprint", .equal, keyThumbprint)
            .first(decoding: DeviceRow.self, with: Self.decoder)
    }

    /// Devices ordered by id, after the cursor `after`, filtered.
    package func devices(state: String?, groupID: String?, zone: String?, after: String?, limit: Int) async throws -> [DeviceRow] {
        let query = sql.select().column("*").from("devices")
        if let state { query.where("state", .equal, state) }
        if let groupID { query.where("group_id", .equal, groupID) }
        if let zone { query.where("zone", .equal, zone) }
        if let after { query.where("id", .greaterThan, after) }
        return try await query.orderBy("id").limit(limit).all(decoding: DeviceRow.self, with: Self.decoder)
    }

    // MARK: Certificates

    /// Inserts several certificates in one statement.
    package func insert(certificates: [CertificateRow]) async throws {
        guard !certificates.isEmpty else { return }
        let columns = ["serial", "device_id", "pem", "not_before", "not_after", "revoked_at", "reason", "log_index"]
        try await insert(into: "certificates", columns: columns, rows: certificates) {
            [
                SQLBind($0.serial), SQLBind($0.deviceId), SQLBind($0.pem), SQLBind($0.notBefore), SQLBind($0.notAfter),
                Self.bind($0.revokedAt), Self.bind($0.reason), Self.bind($0.logIndex),
            ]
        }
    }

    package func certificate(serial: String) async throws -> CertificateRow? {
        try await sql.select().column("*").from("certificates").where("serial", .equal, serial)
            .first(decoding: CertificateRow.self, with: Self.decoder)
    }

    package func certificates(deviceID: String) async throws -> [CertificateRow] {
        try await sql.select().column("*").from("certificates").where("device_id", .equal, deviceID)
            .orderBy("not_before").orderBy("serial").all(decoding: CertificateRow.self, with: Self.decoder)
    }

    /// Certificates revoked or on hold that have not expired before `notAfter`: the CRL's entries.
    package func revokedCertificates(unexpiredAt now: Int) async throws -> [CertificateRow] {
        try await sql.select().column("*").from("certificates")
            .where("revoked_at", .isNot, SQLLiteral.null).where("not_after", .greaterThan, now)
            .orderBy("serial").all(decoding: CertificateRow.self, with: Self.decoder)
    }

    /// Revokes (or holds, reason 6) every unrevoked certificate of the device, or lifts a hold.
    /// Returns the serials changed.
    @discardableResult
    package func revokeCertificates(deviceID: String, at: Int, reason: Int, exceptSerial: String? = nil) async throws -> [String] {
        let query = sql.update("certificates").set("revoked_at", to: at).set("reason", to: reason)
            .where("device_id", .equal, deviceID)
            .where("revoked_at", .is, SQLLiteral.null)
        if let exceptSerial { query.where("serial", .notEqual, exceptSerial) }
        return try await query.returning("serial").all(decodingColumn: "serial", as: String.self)
    }

    /// Changes held certificates (reason certificateHold) of the device: to revoked with `reason`, or
    /// back to good when `reason` is nil.
    @discardableResult
    package func resolveHolds(deviceID: String, at: Int, reason: Int?) async throws -> [String] {
        let query = sql.update("certificates")
        if let reason {
            query.set("reason", to: reason).set("revoked_at", to: at)
        } else {
            query.set("reason", to: SQLLiteral.null).set("revoked_at", to: SQLLiteral.null)
        }
        return try await query.where("device_id", .equal, deviceID).where("reason", .equal, 6)
            .returning("serial").all(decodingColumn: "serial", as: String.self)
    }

    // MARK: Credentials and status bits

    /// Inserts several credentials in one statement.
    package func insert(credentials: [CredentialRow]) async throws {
        guard !credentials.isEmpty else { return }
        let columns = ["id", "device_id", "type", "token", "status_index", "issued_at", "expires_at", "log_index"]
        try await insert(into: "credentials", columns: columns, rows: credentials) {
            [
                SQLBind($0.id), SQLBind($0.deviceId), SQLBind($0.type), SQLBind($0.token), SQLBind($0.statusIndex), SQLBind($0.issuedAt),
                SQLBind($0.expiresAt), Self.bind($0.logIndex),
            ]
        }
    }

    package func credentials(deviceID: String) async throws -> [CredentialRow] {
        try await sql.select().column("*").from("credentials").where("device_id", .equal, deviceID)
            .orderBy("issued_at").orderBy("id").all(decoding: CredentialRow.self, with: Self.decoder)
    }

    /// The distinct status indexes of the device's credentials.
    package func statusIndexes(deviceID: String) async throws -> [Int] {
        try await sql.select().distinct().column("status_index").from("credentials").where("device_id", .equal, deviceID)
            .orderBy("status_index").all(decodingColumn: "status_index", as: Int.self)
    }

    /// Sets the bits (idempotent).
    package func setStatusBits(purpose: String, indexes: [Int], at: Int) async throws {
        for index in indexes {
            let existing = try await sql.select().column("idx").from("status_bits")
                .where("purpose", .equal, purpose).where("idx", .equal, index).first()
            if existing == nil {
                try await sql.insert(into: "status_bits").columns("purpose", "idx", "set_at")
                    .values(SQLBind(purpose), SQLBind(index), SQLBind(at)).run()
            }
        }
    }

    package func clearStatusBits(purpose: String, indexes: [Int]) async throws {
        guard !indexes.isEmpty else { return }
        try await sql.delete(from: "status_bits").where("purpose", .equal, purpose).where("idx", .in, indexes).run()
    }

    /// Every set bit of `purpose` in `range`.
    package func statusBits(purpose: String, range: Range<Int>) async throws -> [Int] {
        try await sql.select().column("idx").from("status_bits").where("purpose", .equal, purpose)
            .where("idx", .greaterThanOrEqual, range.lowerBound).where("idx", .lessThan, range.upperBound)
            .all(decodingColumn: "idx", as: Int.self)
    }
}

extension StoreSession {
    /// The latest events about `subject`, oldest first.
    package func events(subject: String, limit: Int) async throws -> [EventRow] {
        try await sql.select().column("*").from("events").where("subject", .equal, subject)
            .orderBy("seq").limit(limit).all(decoding: EventRow.self, with: Self.decoder)
    }
}

extension StoreSession {
    /// Number of devices in each state.
    package func deviceCounts() async throws -> [String: Int] {
        let rows = try await sql.select().column("state").column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from("devices").groupBy("state").all()
        var counts: [String: Int] = [:]
        for row in rows {
            counts[try row.decode(column: "state", as: String.self)] = try row.decode(column: "n", as: Int.self)
        }
        return counts
    }
}
