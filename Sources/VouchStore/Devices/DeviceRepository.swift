import Foundation
import SQLKit
import Synchronization
import VouchCore
import VouchKit

/// The devices, and the factory certificates that vouched for them.
package struct DeviceRepository: Sendable {
    let sql: any SQLDatabase

    /// The columns as SQL holds them: attributes, roles, earlier DIDs and the key as JSON text.
    private struct Row: Codable {
        var id: String
        var groupId: String
        var zone: String
        var state: String
        var did: String
        var keyThumbprint: String
        var publicKey: String
        var attributes: String
        var roles: String
        var previousDids: String
        var createdAt: Int
        var updatedAt: Int
    }

    private static let columns = [
        "id", "group_id", "zone", "state", "did", "key_thumbprint", "public_key", "attributes", "roles", "previous_dids", "created_at", "updated_at",
    ]

    /// A device is read on every request it makes; its JSON columns rarely change.
    private static let keys = DecodedColumns<JWK>(capacity: 10_000)
    private static let attributes = DecodedColumns<[String: String]>(capacity: 10_000)
    private static let names = DecodedColumns<[String]>(capacity: 10_000)

    private static func record(_ row: Row) throws -> DeviceRecord {
        guard let state = DeviceState(rawValue: row.state) else { throw StoreError.corrupt("device \(row.id) has state \(row.state)") }
        return DeviceRecord(
            id: row.id, groupId: row.groupId, zone: row.zone, state: state, did: row.did, keyThumbprint: row.keyThumbprint,
            publicKey: try keys.decode(row.publicKey, column: "public_key of device \(row.id)"),
            attributes: try attributes.decode(row.attributes, column: "attributes of device \(row.id)"),
            roles: try names.decode(row.roles, column: "roles of device \(row.id)"),
            previousDids: try names.decode(row.previousDids, column: "previous_dids of device \(row.id)"),
            createdAt: row.createdAt, updatedAt: row.updatedAt)
    }

    /// Inserts several devices in one statement.
    package func insert(_ devices: [DeviceRecord]) async throws {
        guard !devices.isEmpty else { return }
        let rows = try devices.map { device in
            (
                device,
                publicKey: try StoredJSON.encode(device.publicKey), attributes: try StoredJSON.encode(device.attributes),
                roles: try StoredJSON.encode(device.roles), previousDids: try StoredJSON.encode(device.previousDids)
            )
        }
        try await sql.insert(into: "devices", columns: Self.columns, rows: rows) {
            [
                SQLBind($0.0.id), SQLBind($0.0.groupId), SQLBind($0.0.zone), SQLBind($0.0.state.rawValue), SQLBind($0.0.did),
                SQLBind($0.0.keyThumbprint), SQLBind($0.publicKey), SQLBind($0.attributes), SQLBind($0.roles), SQLBind($0.previousDids),
                SQLBind($0.0.createdAt), SQLBind($0.0.updatedAt),
            ]
        }
    }

    /// The ids of devices holding any of `keyThumbprints`, by thumbprint.
    package func ids(keyThumbprints: [String]) async throws -> [String: String] {
        guard !keyThumbprints.isEmpty else { return [:] }
        // Written as text: every enrollment asks (see `SQLSupport`).
        let rows = try await sql.raw(#"SELECT "id", "key_thumbprint" FROM "devices" WHERE "key_thumbprint" IN (\#(binds: keyThumbprints))"#).all()
        var ids: [String: String] = [:]
        for row in rows {
            ids[try row.decode(column: "key_thumbprint", as: String.self)] = try row.decode(column: "id", as: String.self)
        }
        return ids
    }

    package func update(_ device: DeviceRecord) async throws {
        try await sql.update("devices")
            .set("zone", to: device.zone)
            .set("state", to: device.state.rawValue)
            .set("did", to: device.did)
            .set("key_thumbprint", to: device.keyThumbprint)
            .set("public_key", to: try StoredJSON.encode(device.publicKey))
            .set("attributes", to: try StoredJSON.encode(device.attributes))
            .set("roles", to: try StoredJSON.encode(device.roles))
            .set("previous_dids", to: try StoredJSON.encode(device.previousDids))
            .set("updated_at", to: device.updatedAt)
            .where("id", .equal, device.id).run()
    }

    /// The device `id`. With `forUpdate`, its row stays locked until the transaction ends, so that
    /// read-modify-write changes (lifecycle, renewal, rotation) of one device run one after another
    /// on PostgreSQL; SQLite's dialect has no row locks and serialises writers anyway.
    package func find(id: String, forUpdate: Bool = false) async throws -> DeviceRecord? {
        let query = sql.select().column("*").from("devices").where("id", .equal, id)
        if forUpdate { query.for(.update) }
        return try await query.first(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    /// The devices among `ids` that exist (at most a few hundred ids at a time), in no order.
    package func find(ids: [String]) async throws -> [DeviceRecord] {
        guard !ids.isEmpty else { return [] }
        return try await sql.select().column("*").from("devices").where("id", .in, ids)
            .all(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    package func find(did: String) async throws -> DeviceRecord? {
        try await sql.select().column("*").from("devices").where("did", .equal, did)
            .first(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    package func find(keyThumbprint: String) async throws -> DeviceRecord? {
        try await sql.select().column("*").from("devices").where("key_thumbprint", .equal, keyThumbprint)
            .first(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    /// Devices ordered by id, after the cursor `after`, filtered. Every filter and pair of filters
    /// but group with zone is answered from an index in id order (migration 0012), so a page costs
    /// the same in a fleet of any size.
    package func list(state: DeviceState?, groupID: String?, zone: String?, after: String?, limit: Int) async throws -> [DeviceRecord] {
        try await listQuery(state: state, groupID: groupID, zone: zone, after: after, limit: limit)
            .all(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    /// How SQLite plans `list` with these filters: the detail lines of EXPLAIN QUERY PLAN.
    package func listPlan(state: DeviceState?, groupID: String?, zone: String?, after: String?) async throws -> [String] {
        struct Explain: SQLExpression {
            let query: any SQLExpression
            func serialize(to serializer: inout SQLSerializer) {
                serializer.write("EXPLAIN QUERY PLAN ")
                query.serialize(to: &serializer)
            }
        }
        final class Lines: Sendable { let value = Mutex<[String]>([]) }
        let lines = Lines()
        let query = listQuery(state: state, groupID: groupID, zone: zone, after: after, limit: 100).query
        try await sql.execute(sql: Explain(query: query)) { row in
            if let detail = try? row.decode(column: "detail", as: String.self) { lines.value.withLock { $0.append(detail) } }
        }
        return lines.value.withLock { $0 }
    }

    private func listQuery(state: DeviceState?, groupID: String?, zone: String?, after: String?, limit: Int) -> SQLSelectBuilder {
        let query = sql.select().column("*").from("devices")
        if let state { query.where("state", .equal, state.rawValue) }
        if let groupID { query.where("group_id", .equal, groupID) }
        if let zone { query.where("zone", .equal, zone) }
        if let after { query.where("id", .greaterThan, after) }
        return query.orderBy("id").limit(limit)
    }

    /// Number of devices in each state (states without devices are left out).
    package func countsByState() async throws -> [DeviceState: Int] {
        let rows = try await sql.select().column("state").column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from("devices").groupBy("state").all()
        var counts: [DeviceState: Int] = [:]
        for row in rows {
            let text = try row.decode(column: "state", as: String.self)
            guard let state = DeviceState(rawValue: text) else { throw StoreError.corrupt("devices have state \(text)") }
            counts[state] = try row.decode(column: "n", as: Int.self)
        }
        return counts
    }

    /// Number of devices in each zone, from the zone index.
    package func countsByZone() async throws -> [String: Int] {
        let rows = try await sql.select().column("zone").column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from("devices").groupBy("zone").all()
        var counts: [String: Int] = [:]
        for row in rows {
            counts[try row.decode(column: "zone", as: String.self), default: 0] += try row.decode(column: "n", as: Int.self)
        }
        return counts
    }

    /// Devices whose id starts with `prefix`, in id order after the cursor: the id index answers it
    /// (a range, not a scan), in a fleet of any size.
    package func list(idPrefix prefix: String, after: String?, limit: Int) async throws -> [DeviceRecord] {
        let query = sql.select().column("*").from("devices").where("id", .greaterThanOrEqual, prefix)
            // Every id with the prefix sorts below the prefix followed by the highest character.
            .where("id", .lessThan, prefix + "\u{10FFFF}")
        if let after { query.where("id", .greaterThan, after) }
        // The range is the index's; the check is exact whatever the database's collation.
        return try await query.orderBy("id").limit(limit).all(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
            .filter { $0.id.hasPrefix(prefix) }
    }

    /// Devices whose attribute `name` (any attribute, without one) is `value`, in id order after
    /// the cursor, with the state and zone given. Attributes are JSON text: the rows are found by
    /// the pair's text in it (a scan, stopped at `limit`), then checked exactly.
    package func list(attribute name: String?, value: String, state: DeviceState?, zone: String?, after: String?, limit: Int) async throws -> [DeviceRecord] {
        let pair = try name.map { String(try StoredJSON.encode([$0: value]).dropFirst().dropLast()) } ?? (":" + StoredJSON.encode(value))
        let escaped = pair.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        struct Like: SQLExpression {
            let pattern: String
            func serialize(to serializer: inout SQLSerializer) {
                serializer.write("\"attributes\" LIKE ")
                SQLBind(pattern).serialize(to: &serializer)
                serializer.write(" ESCAPE '\\'")
            }
        }
        let query = sql.select().column("*").from("devices").where(Like(pattern: "%" + escaped + "%"))
        if let state { query.where("state", .equal, state.rawValue) }
        if let zone { query.where("zone", .equal, zone) }
        if let after { query.where("id", .greaterThan, after) }
        return try await query.orderBy("id").limit(limit).all(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
            .filter { row in name.map { row.attributes[$0] == value } ?? row.attributes.values.contains(value) }
    }

    /// Devices most recently changed first, before the cursor (a change time and an id), with the
    /// state and zone given: read from the change index (migration 0017).
    package func listByChange(state: DeviceState?, zone: String?, before: (updatedAt: Int, id: String)?, limit: Int) async throws -> [DeviceRecord] {
        let query = sql.select().column("*").from("devices")
        if let state { query.where("state", .equal, state.rawValue) }
        if let zone { query.where("zone", .equal, zone) }
        if let before {
            query.where { group in
                group.where("updated_at", .lessThan, before.updatedAt)
                    .orWhere { $0.where("updated_at", .equal, before.updatedAt).where("id", .lessThan, before.id) }
            }
        }
        return try await query.orderBy("updated_at", .descending).orderBy("id", .descending).limit(limit)
            .all(decoding: Row.self, with: SQLValues.decoder).map(Self.record)
    }

    // MARK: Factory certificates

    /// How many devices a factory certificate has vouched for that still stand (not revoked or
    /// decommissioned).
    package func standing(factoryCertificate fingerprint: String) async throws -> Int {
        try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from("factory_certificates")
            .join("devices", on: SQLColumn("id", table: "devices"), .equal, SQLColumn("device_id", table: "factory_certificates"))
            .where(SQLColumn("fingerprint", table: "factory_certificates"), .equal, SQLBind(fingerprint))
            .where(
                SQLColumn("state", table: "devices"), .notIn,
                SQLGroupExpression([SQLBind(DeviceState.revoked.rawValue), SQLBind(DeviceState.decommissioned.rawValue)])
            )
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
}
