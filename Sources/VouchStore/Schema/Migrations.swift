import SQLKit
import Foundation
import VouchKit

/// The schema, as an append-only list of named migrations. A migration that has landed is never edited:
/// changes come as new entries at the end.
package enum Migrations {
    package struct Migration: Sendable {
        package let name: String
        let apply: @Sendable (any SQLDatabase) async throws -> Void
    }

    /// The advisory lock key of Vouch's migrations ("vouch" in ASCII).
    static let advisoryLockKey = 0x766F_7563_68

    package static let all: [Migration] = [
        Migration(name: "0001_authority") { db in
            try await db.create(table: "counters")
                .column("name", type: .text, .primaryKey(autoIncrement: false))
                .column("value", type: .bigint, .notNull)
                .run()
            for name in ["events", "status_index"] {
                try await db.insert(into: "counters").columns("name", "value").values(SQLBind(name), SQLBind(0)).run()
            }
            try await db.create(table: "api_keys")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("name", type: .text, .notNull)
                .column("scope", type: .text, .notNull)
                .column("secret_hash", type: .text, .notNull, .unique)
                .column("created_at", type: .bigint, .notNull)
                .column("revoked_at", type: .bigint)
                .run()
            try await db.create(table: "enrollment_groups")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("name", type: .text, .notNull, .unique)
                .column("token_hash", type: .text)
                .column("token_uses_left", type: .bigint)
                .column("settings", type: .text, .notNull)
                .column("disabled", type: .bigint, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .column("updated_at", type: .bigint, .notNull)
                .run()
            try await db.create(table: "devices")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("group_id", type: .text, .notNull, .references("enrollment_groups", "id"))
                .column("zone", type: .text, .notNull)
                .column("state", type: .text, .notNull)
                .column("did", type: .text, .notNull, .unique)
                .column("key_thumbprint", type: .text, .notNull, .unique)
                .column("public_key", type: .text, .notNull)
                .column("attributes", type: .text, .notNull)
                .column("roles", type: .text, .notNull)
                .column("previous_dids", type: .text, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .column("updated_at", type: .bigint, .notNull)
                .run()
            try await db.create(index: "devices_by_state").on("devices").column("state").column("id").run()
            try await db.create(index: "devices_by_group").on("devices").column("group_id").column("id").run()
            try await db.create(table: "certificates")
                .column("serial", type: .text, .primaryKey(autoIncrement: false))
                .column("device_id", type: .text, .notNull, .references("devices", "id"))
                .column("pem", type: .text, .notNull)
                .column("not_before", type: .bigint, .notNull)
                .column("not_after", type: .bigint, .notNull)
                .column("revoked_at", type: .bigint)
                .column("reason", type: .bigint)
                .run()
            try await db.create(index: "certificates_by_device").on("certificates").column("device_id").run()
            try await db.create(index: "certificates_by_revocation").on("certificates").column("revoked_at").run()
            try await db.create(table: "credentials")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("device_id", type: .text, .notNull, .references("devices", "id"))
                .column("type", type: .text, .notNull)
                .column("token", type: .text, .notNull)
                .column("status_index", type: .bigint, .notNull)
                .column("issued_at", type: .bigint, .notNull)
                .column("expires_at", type: .bigint, .notNull)
                .run()
            try await db.create(index: "credentials_by_device").on("credentials").column("device_id").run()
            try await db.create(table: "status_bits")
                .column("purpose", type: .text, .notNull)
                .column("idx", type: .bigint, .notNull)
                .column("set_at", type: .bigint, .notNull)
                .primaryKey("purpose", "idx")
                .run()
            try await db.create(table: "nonces")
                .column("digest", type: .text, .primaryKey(autoIncrement: false))
                .column("purpose", type: .text, .notNull)
                .column("expires_at", type: .bigint, .notNull)
                .run()
            try await db.create(table: "events")
                .column("seq", type: .bigint, .primaryKey(autoIncrement: false))
                .column("at", type: .bigint, .notNull)
                .column("kind", type: .text, .notNull)
                .column("subject", type: .text, .notNull)
                .column("actor", type: .text, .notNull)
                .column("data", type: .text, .notNull)
                .run()
            try await db.create(index: "events_by_subject").on("events").column("subject").column("seq").run()
        },
        // The revocation generation: moves with every change to certificate revocation or status
        // bits, so that CRLs and status lists are rebuilt only when what they say has changed.
        Migration(name: "0002_revocation_generation") { db in
            try await db.insert(into: "counters").columns("name", "value").values(SQLBind("revocations"), SQLBind(0)).run()
        },
        // Nonces carry their own expiry under the server's MAC and are stored only once spent (see
        // `NonceMinter`). Nonces issued before this migration are void; each lived five minutes.
        Migration(name: "0003_stateless_nonces") { db in
            try await db.create(table: "spent_nonces")
                .column("digest", type: .text, .primaryKey(autoIncrement: false))
                .column("expires_at", type: .bigint, .notNull)
                .run()
            try await db.create(index: "spent_nonces_by_expiry").on("spent_nonces").column("expires_at").run()
            try await db.drop(table: "nonces").run()
        },
        // The transparency log over the events table: entry i is event seq i+1. Stored are the
        // nodes of the tree (every perfect subtree's hash, level 0 being the entries' leaf hashes)
        // and every checkpoint published, each with the tree size it signs.
        Migration(name: "0004_transparency_log") { db in
            try await db.create(table: "log_nodes")
                .column("level", type: .int, .notNull)
                .column("idx", type: .bigint, .notNull)
                .column("hash", type: .blob, .notNull)
                .primaryKey("level", "idx")
                .run()
            try await db.create(table: "log_checkpoints")
                .column("size", type: .bigint, .primaryKey(autoIncrement: false))
                .column("root", type: .blob, .notNull)
                .column("note", type: .text, .notNull)
                .column("published_at", type: .bigint, .notNull)
                .run()
        },
        // Issued certificates and credentials point at the log entry of their issuance event. Event
        // data becomes canonical JSON (RFC 8785) throughout, since the log hashes it as stored;
        // events written before 0.4 were encoded with sorted keys but not canonical numbers. Checkpoints
        // waiting for witnesses' cosignatures, and the cosignatures received, are kept until published.
        Migration(name: "0005_log_entries") { db in
            try await db.alter(table: "certificates").column("log_index", type: .bigint).run()
            try await db.alter(table: "credentials").column("log_index", type: .bigint).run()
            var after = 0
            while true {
                let rows = try await db.select().columns("seq", "data").from("events").where("seq", .greaterThan, after)
                    .orderBy("seq").limit(1000).all()
                guard let last = rows.last else { break }
                for row in rows {
                    let data = try row.decode(column: "data", as: String.self)
                    let canonical = String(decoding: try JSONValue(parsing: Data(data.utf8)).canonicalJSON, as: UTF8.self)
                    if canonical != data {
                        try await db.update("events").set("data", to: canonical).where("seq", .equal, try row.decode(column: "seq", as: Int.self)).run()
                    }
                }
                after = try last.decode(column: "seq", as: Int.self)
            }
            try await db.create(table: "log_pending")
                .column("size", type: .bigint, .primaryKey(autoIncrement: false))
                .column("note", type: .text, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .run()
            try await db.create(table: "log_cosignatures")
                .column("size", type: .bigint, .notNull)
                .column("witness", type: .text, .notNull)
                .column("line", type: .text, .notNull)
                .column("received_at", type: .bigint, .notNull)
                .primaryKey("size", "witness")
                .run()
        },
        // Policy documents, one row per version as uploaded (YAML or JSON text); the highest version
        // is in force; versions are numbered by the `policies` counter. Versions are never edited or deleted:
        // going back is uploading an old text again.
        Migration(name: "0006_policies") { db in
            try await db.create(table: "policies")
                .column("version", type: .bigint, .primaryKey(autoIncrement: false))
                .column("source", type: .text, .notNull)
                .column("digest", type: .text, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .column("actor", type: .text, .notNull)
                .run()
            try await db.insert(into: "counters").columns("name", "value").values(SQLBind("policies"), SQLBind(0)).run()
        },
        // Firmware measurements operators vouch for (good) or have withdrawn (revoked), and the
        // latest measurement each device reported.
        Migration(name: "0007_firmware") { db in
            try await db.create(table: "firmware")
                .column("digest", type: .text, .primaryKey(autoIncrement: false))
                .column("model", type: .text, .notNull)
                .column("version", type: .text, .notNull)
                .column("status", type: .text, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .column("updated_at", type: .bigint, .notNull)
                .run()
            try await db.create(table: "device_firmware")
                .column("device_id", type: .text, .primaryKey(autoIncrement: false), .references("devices", "id"))
                .column("digest", type: .text, .notNull)
                .column("version", type: .text, .notNull)
                .column("status", type: .text, .notNull)
                .column("phase", type: .text, .notNull)
                .column("reported_at", type: .bigint, .notNull)
                .run()
            try await db.create(index: "device_firmware_by_digest").on("device_firmware").column("digest").run()
        },
        // Devices a response rule has asked to step up: their next access token needs a fresh,
        // known-good firmware measurement.
        Migration(name: "0008_step_ups") { db in
            try await db.create(table: "step_ups")
                .column("device_id", type: .text, .primaryKey(autoIncrement: false), .references("devices", "id"))
                .column("required_at", type: .bigint, .notNull)
                .column("cause", type: .text, .notNull)
                .run()
        },
        // Secrets the authority keeps in the database, so that every node sharing it has them:
        // the key that places credentials at random positions within a status list. Positions
        // handed out before (in order) keep their list; new ones start in the next list.
        Migration(name: "0009_secrets") { db in
            try await db.create(table: "secrets")
                .column("name", type: .text, .primaryKey(autoIncrement: false))
                .column("value", type: .text, .notNull)
                .run()
            let key = SecureRandom.bytes(32)
            try await db.insert(into: "secrets").columns("name", "value").values(SQLBind("status_index_key"), SQLBind(Hex.encode(key))).run()
            let used = try await db.select().column("value").from("counters").where("name", .equal, "status_index")
                .first(decodingColumn: "value", as: Int.self) ?? 0
            let size = BitstringStatusList.minimumSize
            if used % size != 0 {
                try await db.update("counters").set("value", to: SQLBind((used / size + 1) * size)).where("name", .equal, "status_index").run()
            }
        },
        // Which factory certificate vouched for each device enrolled by manufacturer attestation
        // (SHA-256 of its DER), so that one certificate enrolls one device unless its group allows more.
        Migration(name: "0010_factory_certificates") { db in
            try await db.create(table: "factory_certificates")
                .column("device_id", type: .text, .primaryKey(autoIncrement: false), .references("devices", "id"))
                .column("fingerprint", type: .text, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .run()
            try await db.create(index: "factory_certificates_by_fingerprint").on("factory_certificates").column("fingerprint").run()
        },
        // Every change to a certificate's revocation or to a status bit is stamped with the revocation
        // generation that its transaction took, so that CRL, OCSP and status lists follow the changes
        // since the generation they hold instead of reading the tables again. A cleared bit keeps its
        // row (cleared = 1) so that the clearing is a change too.
        Migration(name: "0011_revocation_generations") { db in
            try await db.alter(table: "certificates").column("revocation_generation", type: .bigint).run()
            try await db.create(index: "certificates_by_revocation_generation").on("certificates").column("revocation_generation").run()
            try await db.alter(table: "status_bits").column("generation", type: .bigint).run()
            try await db.alter(table: "status_bits").column("cleared", type: .bigint, .notNull, .default(0)).run()
            try await db.create(index: "status_bits_by_generation").on("status_bits").column("generation").run()
        },
        // Device pages filtered by zone, or by state within a group or a zone, are read from an index
        // in id order instead of walking every device of the group, zone or state.
        Migration(name: "0012_device_filters") { db in
            try await db.create(index: "devices_by_zone").on("devices").column("zone").column("id").run()
            try await db.create(index: "devices_by_group_state").on("devices").column("group_id").column("state").column("id").run()
            try await db.create(index: "devices_by_zone_state").on("devices").column("zone").column("state").column("id").run()
        },
        // Settings every node sharing the database must agree on, by name: the public URL the
        // authority's identity (did:web, certificate and status-list URLs) was pinned to.
        Migration(name: "0013_settings") { db in
            try await db.create(table: "settings")
                .column("name", type: .text, .primaryKey(autoIncrement: false))
                .column("value", type: .text, .notNull)
                .run()
        },
        // Webhooks: the endpoints operators register, and the outbox. Each endpoint keeps a cursor in
        // the events table; the events after it that its filters keep become deliveries, in the same
        // transaction that moves the cursor, so that none is lost or made twice across a restart.
        // Every attempt is kept. The authority's Ed25519 key for the asymmetric v1a signature is a
        // secret every node shares.
        Migration(name: "0014_webhooks") { db in
            try await db.create(table: "webhook_endpoints")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("url", type: .text, .notNull)
                .column("description", type: .text, .notNull)
                .column("kinds", type: .text, .notNull)
                .column("enabled", type: .bigint, .notNull)
                .column("asymmetric", type: .bigint, .notNull)
                .column("secret", type: .text, .notNull)
                .column("previous_secret", type: .text)
                .column("previous_secret_until", type: .bigint)
                .column("cursor", type: .bigint, .notNull)
                .column("failing_since", type: .bigint)
                .column("disabled_reason", type: .text)
                .column("created_at", type: .bigint, .notNull)
                .column("updated_at", type: .bigint, .notNull)
                .run()
            try await db.create(table: "webhook_deliveries")
                .column("endpoint_id", type: .text, .notNull)
                .column("seq", type: .bigint, .notNull)
                .column("state", type: .text, .notNull)
                .column("tries", type: .bigint, .notNull)
                .column("attempts", type: .bigint, .notNull)
                .column("next_at", type: .bigint, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .column("finished_at", type: .bigint)
                .primaryKey("endpoint_id", "seq")
                .run()
            try await db.create(index: "webhook_deliveries_due").on("webhook_deliveries").column("state").column("next_at").run()
            try await db.create(table: "webhook_attempts")
                .column("endpoint_id", type: .text, .notNull)
                .column("seq", type: .bigint, .notNull)
                .column("attempt", type: .bigint, .notNull)
                .column("at", type: .bigint, .notNull)
                .column("status", type: .bigint)
                .column("latency_ms", type: .bigint, .notNull)
                .column("error", type: .text)
                .column("response", type: .text)
                .primaryKey("endpoint_id", "seq", "attempt")
                .run()
            let key = SecureRandom.bytes(32)
            try await db.insert(into: "secrets").columns("name", "value").values(SQLBind("webhook_signing_key"), SQLBind(Hex.encode(key))).run()
        },
        // The revocation stream names the device behind each status bit that changes: credentials are
        // found by their status-list position through an index, not by reading them all.
        Migration(name: "0015_credentials_by_status_index") { db in
            try await db.create(index: "credentials_by_status_index").on("credentials").column("status_index").run()
        },
        // A delivery being attempted is marked claimed (its due time is then the claim's end): a
        // server on SQLite, the only one on its database, gives back at start the claims a killed
        // process left, instead of waiting for them to run out.
        Migration(name: "0016_webhook_claims") { db in
            try await db.alter(table: "webhook_deliveries").column("claimed", type: .bigint, .notNull, .default(0)).run()
        },
        // The console lists devices most recently changed first, a page at a time, from an index.
        Migration(name: "0017_devices_by_change") { db in
            try await db.create(index: "devices_by_change").on("devices").column("updated_at").column("id").run()
        },
    ]

    /// Applies every migration not yet applied, each in its own transaction, in order. On PostgreSQL
    /// each transaction first takes a transaction-scoped advisory lock, so that several nodes starting
    /// at once on one database apply each migration once, one after another (SQLite's writer lock
    /// already does that).
    package static func run(on database: VouchDatabase, now: Int) async throws -> [String] {
        let engine = database.engine
        @Sendable func serialize(_ db: any SQLDatabase) async throws {
            if engine == .postgres {
                try await db.raw("SELECT pg_advisory_xact_lock(\(literal: Self.advisoryLockKey))").run()
            }
        }
        try await database.transaction { db in
            try await serialize(db)
            try await db.create(table: "vouch_migrations")
                .ifNotExists()
                .column("name", type: .text, .primaryKey(autoIncrement: false))
                .column("applied_at", type: .bigint, .notNull)
                .run()
        }
        var applied: [String] = []
        for migration in all {
            let done = try await database.transaction { db in
                try await serialize(db)
                if try await db.select().column("name").from("vouch_migrations").where("name", .equal, migration.name).first() != nil {
                    return false
                }
                try await migration.apply(db)
                try await db.insert(into: "vouch_migrations").columns("name", "applied_at")
                    .values(SQLBind(migration.name), SQLBind(now)).run()
                return true
            }
            if done { applied.append(migration.name) }
        }
        return applied
    }
}
