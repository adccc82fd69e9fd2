import Crypto
import Foundation
import SwiftASN1
import Logging
import VouchCore
import VouchKit
import VouchStore
import X509

/// Starts the authority on a data directory: bootstraps it the first time, loads it afterwards.
enum ServerLoader {
    struct Loaded {
        let services: VouchServices
        /// The admin API key, when this start created it.
        let newAdminKey: String?
    }

    static func load(configuration: ServerConfiguration, logger: Logger) async throws -> Loaded {
        // A public URL the authority cannot be named by stops the start before anything is made.
        _ = try IdentityPin.normalized(configuration.resolvedPublicURL)
        let root = configuration.dataDirectory
        let existed = DataDirectory.isDirectory(root) != nil
        let fresh = try DataDirectory.prepare(root)
        /// A start refused before the bootstrap wrote anything leaves no half-made data directory.
        func undoPreparation() {
            guard fresh else { return }
            DataDirectory.undoPreparation(root, removeRoot: !existed)
        }
        let keys = FileKeyStore(directory: root + "/keys")
        let database: VouchDatabase
        do {
            database = try await VouchDatabase.open(url: configuration.databaseURL, dataDirectory: root, logger: logger)
        } catch {
            undoPreparation()
            throw ServerStartupError("\(error)")
        }
        let now = configuration.clock()
        let pin: IdentityPin.Outcome
        do {
            let applied = try await Migrations.run(on: database, now: Int(now.timeIntervalSince1970))
            if !applied.isEmpty {
                logger.info("database migrated", metadata: ["db.migrations": "\(applied.joined(separator: ","))", "db.engine": "\(database.engine.rawValue)"])
            }
            try await AuthorityBinding.check(directory: root, fresh: fresh, store: Store(database: database), location: database.location)
            pin = try await IdentityPin.check(store: Store(database: database), configuration: configuration)
        } catch {
            await database.close()
            undoPreparation()
            if let error = error as? ServerStartupError { throw error }
            throw ServerStartupError("cannot prepare the database at \(database.location): \(String(reflecting: error))")
        }
        do {
            let loaded = try await load(configuration: configuration, database: database, keys: keys, fresh: fresh, now: now, logger: logger)
            try await IdentityPin.apply(pin, services: loaded.services, logger: logger)
            return loaded
        } catch {
            await database.close()
            if let error = error as? ServerStartupError { throw error }
            throw ServerStartupError("cannot start on \(root): \(error)")
        }
    }

    private static func load(
        configuration: ServerConfiguration, database: VouchDatabase, keys: FileKeyStore, fresh: Bool, now: Date, logger: Logger
    ) async throws -> Loaded {
        let root = configuration.dataDirectory
        let store = Store(database: database)
        let name = URL(string: configuration.resolvedPublicURL)?.host ?? "vouch"
        if fresh {
            let (ca, caKeys) = try CertificateAuthority.bootstrap(
                name: name, rootCRLURL: configuration.resolvedPublicURL + "/v1/pki/root.crl", now: now)
            let issuerKey = SigningKey.generate(.ed25519)
            try keys.create("root.key", contents: Data(caKeys.root.pemRepresentation.utf8))
            try keys.create("intermediate.key", contents: Data(caKeys.intermediate.pemRepresentation.utf8))
            try keys.create("ocsp.key", contents: Data(caKeys.responder.pemRepresentation.utf8))
            try keys.create("issuer.jwk", contents: try JSONEncoder().encode(issuerKey.jwk))
            let nonceKey = try Self.nonceKey(keys, logger: logger)
            try AtomicFile.write(Data((try ca.root.serializeAsPEM().pemString + "\n").utf8), to: root + "/pki/root.pem", mode: 0o644, replacingExisting: false)
            try AtomicFile.write(Data((try ca.intermediate.serializeAsPEM().pemString + "\n").utf8), to: root + "/pki/intermediate.pem", mode: 0o644, replacingExisting: false)
            try AtomicFile.write(Data((try ca.responder.serializeAsPEM().pemString + "\n").utf8), to: root + "/pki/ocsp.pem", mode: 0o644, replacingExisting: false)
            let log = try await Self.transparencyLog(configuration: configuration, keys: keys, store: store, logger: logger)
            let services = try VouchServices(
                store: store,
                keys: .init(
                    ca: ca, rootCRLs: try RootRevocationLists(ca: ca, key: caKeys.root, path: root + "/pki/" + OfflineRootCRL.fileName, now: now, logger: logger),
                    issuerKey: issuerKey, nonceKey: nonceKey, statusIndexKey: try await Self.statusIndexKey(store), webhookSigningKey: try await Self.webhookSigningKey(store)),
                log: log, publicURL: configuration.resolvedPublicURL, receiptTimeout: configuration.receiptTimeout,
                telemetryKeep: configuration.telemetryKeep, monitorDeviceLimit: configuration.monitorDeviceLimit, webhooks: configuration.webhooks, logger: logger,
                clock: ServerClock(configuration.clock))
            let (_, secret) = try await services.apiKeys.create(name: "bootstrap admin", scope: .admin, actor: "system")
            try AtomicFile.write(Data((secret + "\n").utf8), to: root + "/admin-api-key", mode: 0o600, replacingExisting: false)
            _ = try await store.transaction { session in
                try await services.events.record(session, kind: .authorityBootstrapped, subject: services.did.description, actor: "system", data: [
                    "root": .string(try AuthorityBinding.fingerprint(of: ca.root)),
                    "intermediate": .string(Hex.encode(SHA256.hash(data: try DERBytes.of(ca.intermediate)))),
                    "issuerKey": .string(issuerKey.publicKey.thumbprint),
                ])
            }
            try AtomicFile.write(Data("{\"format\": 1}\n".utf8), to: root + "/" + DataDirectory.marker, mode: 0o600, replacingExisting: false)
            return Loaded(services: services, newAdminKey: secret)
        }
        func key(_ name: String) throws -> String {
            guard let data = try keys.load(name) else { throw ServerStartupError("\(root)/keys/\(name) is missing") }
            return String(decoding: data, as: UTF8.self)
        }
        func certificate(_ name: String) throws -> Certificate {
            do {
                return try Certificate(pemEncoded: String(contentsOfFile: root + "/pki/" + name, encoding: .utf8))
            } catch {
                throw ServerStartupError("\(root)/pki/\(name) is not a PEM certificate")
            }
        }
        /// An issuing CA: its intermediate and key, and its OCSP responder, renewed when it is due.
        func issuingCA(_ files: IssuingCAFiles) throws -> CertificateAuthority {
            let intermediateKey = try P256.Signing.PrivateKey(pemRepresentation: try key(files.intermediateKey))
            var responderKey = try P256.Signing.PrivateKey(pemRepresentation: try key(files.responderKey))
            let intermediate = try certificate(files.intermediate)
            var responder = try certificate(files.responder)
            if responder.notValidAfter.timeIntervalSince(now) < 30 * 86_400 {
                // The responder certificate is short-lived; renew it (with a new key) a month before it ends.
                responderKey = P256.Signing.PrivateKey()
                responder = try CertificateAuthority.issueResponder(name: name, key: responderKey.publicKey, intermediate: intermediate, intermediateKey: intermediateKey, now: now)
                try AtomicFile.write(Data(responderKey.pemRepresentation.utf8), to: root + "/keys/" + files.responderKey, mode: 0o600, replacingExisting: true)
                try AtomicFile.write(Data((try responder.serializeAsPEM().pemString + "\n").utf8), to: root + "/pki/" + files.responder, mode: 0o644, replacingExisting: true)
                logger.info("renewed the OCSP responder certificate", metadata: ["pki.responder": "\(files.responder)"])
            }
            return try CertificateAuthority(
                root: try certificate("root.pem"), intermediate: intermediate, intermediateKey: intermediateKey,
                responder: responder, responderKey: responderKey
            )
        }
        do {
            let ca = try issuingCA(.current)
            // After a rotation, the one before answers for what it issued until that has expired.
            let previousCA = FileManager.default.fileExists(atPath: root + "/pki/" + IssuingCAFiles.previous.intermediate)
                ? try issuingCA(.previous) : nil
            // The root key signs only the root's CRL here: it may be kept offline (see `RootRevocationLists`).
            let rootKey = try keys.load("root.key").map { try P256.Signing.PrivateKey(pemRepresentation: String(decoding: $0, as: UTF8.self)) }
            let rootCRLs = try RootRevocationLists(ca: ca, key: rootKey, path: root + "/pki/" + OfflineRootCRL.fileName, now: now, logger: logger)
            let issuerKey = try SigningKey(jwk: try JSONDecoder().decode(JWK.self, from: Data(try key("issuer.jwk").utf8)))
            let log = try await Self.transparencyLog(configuration: configuration, keys: keys, store: store, logger: logger)
            let services = try VouchServices(
                store: store,
                keys: .init(
                    ca: ca, previousCA: previousCA, rootCRLs: rootCRLs, issuerKey: issuerKey, nonceKey: try Self.nonceKey(keys, logger: logger),
                    statusIndexKey: try await Self.statusIndexKey(store), webhookSigningKey: try await Self.webhookSigningKey(store)),
                log: log, publicURL: configuration.resolvedPublicURL, receiptTimeout: configuration.receiptTimeout,
                telemetryKeep: configuration.telemetryKeep, monitorDeviceLimit: configuration.monitorDeviceLimit, webhooks: configuration.webhooks, logger: logger,
                clock: ServerClock(configuration.clock))
            return Loaded(services: services, newAdminKey: nil)
        } catch let error as ServerStartupError {
            throw error
        } catch {
            throw ServerStartupError("the keys and certificates in \(root) do not load: \(error)")
        }
    }
}

extension ServerLoader {
    /// The log key's file in `keys/`: a C2SP signed-note signer key.
    static let logKeyName = "log.key"

    /// The transparency log, with its signing key, loaded and checked against its last checkpoint.
    /// The key is made on the first start of a log; once the log has published a checkpoint a
    /// missing key stops the start (a new key would silently fork the log for its verifiers).
    static func transparencyLog(configuration: ServerConfiguration, keys: some KeyStore, store: Store, logger: Logger) async throws -> TransparencyLog {
        let signer: NoteSigner
        if let data = try keys.load(logKeyName) {
            do {
                signer = try NoteSigner(signerKey: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            } catch {
                throw ServerStartupError("keys/\(logKeyName) is not a note signer key: \(error.reason)")
            }
        } else {
            if let latest = try await store.read({ try await $0.log.latestCheckpoint() }) {
                throw ServerStartupError(
                    "keys/\(logKeyName) is missing, but the log has published checkpoints (the latest of size \(latest.size)): restore the key; a new one would fork the log"
                )
            }
            let url = URL(string: configuration.resolvedPublicURL)
            let host = (url?.host ?? "vouch") + (url?.port.map { ":\($0)" } ?? "")
            signer = try NoteSigner.generate(name: host + "/vouch/log")
            try keys.create(logKeyName, contents: Data((signer.signerKey + "\n").utf8))
            logger.info("made a new transparency log key", metadata: ["log.origin": "\(signer.name)", "log.verifierKey": "\(signer.verifierKey)"])
        }
        var witnesses: [CosignatureVerifier] = []
        for key in configuration.witnesses {
            do {
                witnesses.append(try CosignatureVerifier(verifierKey: key))
            } catch {
                throw ServerStartupError("the witness key \(key) is not usable: \(error.reason)")
            }
        }
        guard configuration.witnessQuorum >= 0, configuration.witnessQuorum <= witnesses.count else {
            throw ServerStartupError("the witness quorum \(configuration.witnessQuorum) must be between 0 and the \(witnesses.count) witnesses configured")
        }
        let log = TransparencyLog(
            store: store, signer: signer,
            configuration: TransparencyLog.Configuration(
                interval: configuration.checkpointInterval, witnesses: witnesses, quorum: configuration.witnessQuorum),
            logger: logger, clock: configuration.clock)
        try await log.load()
        return log
    }

    /// The key of status-list positions, which the migrations put in the database.
    static func statusIndexKey(_ store: Store) async throws -> [UInt8] {
        guard let text = try await store.read({ try await $0.counters.secret("status_index_key") }), let key = Hex.decode(text), key.count == 32 else {
            throw ServerStartupError("the database has no status-list position key (secrets.status_index_key); it is made by migration 0009_secrets")
        }
        return key
    }

    /// The authority's Ed25519 key for `v1a` webhook signatures, which the migrations put in the database.
    static func webhookSigningKey(_ store: Store) async throws -> StandardWebhook.AsymmetricKey {
        guard let text = try await store.read({ try await $0.counters.secret("webhook_signing_key") }), let seed = Hex.decode(text), seed.count == 32 else {
            throw ServerStartupError("the database has no webhook signing key (secrets.webhook_signing_key); it is made by migration 0014_webhooks")
        }
        return try StandardWebhook.AsymmetricKey(serialized: StandardWebhook.AsymmetricKey.privatePrefix + Data(seed).base64EncodedString())
    }

    /// The nonce key, made when the data directory has none (it predates nonce keys, or the key was
    /// lost: that voids only the nonces outstanding).
    static func nonceKey(_ keys: some KeyStore, logger: Logger) throws -> SymmetricKey {
        if let data = try keys.load(NonceMinter.keyName) {
            guard data.count == 32 else { throw ServerStartupError("keys/\(NonceMinter.keyName) must hold 32 bytes; delete it to get a new one") }
            return SymmetricKey(data: data)
        }
        let key = SymmetricKey(size: .bits256)
        try keys.create(NonceMinter.keyName, contents: key.withUnsafeBytes { Data($0) })
        logger.info("made a new nonce key", metadata: ["key": "\(NonceMinter.keyName)"])
        return key
    }
}

enum DERBytes {
    static func of(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }
}

/// The files of an issuing CA in the data directory (`pki/` and `keys/`): the current one, and the
/// one before the last rotation.
struct IssuingCAFiles: Sendable {
    let intermediate: String
    let intermediateKey: String
    let responder: String
    let responderKey: String

    static let current = IssuingCAFiles(intermediate: "intermediate.pem", intermediateKey: "intermediate.key", responder: "ocsp.pem", responderKey: "ocsp.key")
    static let previous = IssuingCAFiles(
        intermediate: "intermediate-previous.pem", intermediateKey: "intermediate-previous.key", responder: "ocsp-previous.pem",
        responderKey: "ocsp-previous.key")
}
