import Crypto
import Foundation
import Logging
import Synchronization
import VouchCore
import VouchKit
import X509

/// A root CRL signed away from the server (`vouch admin ca export-root`, `sign-root-crl`): DER, kept
/// at `pki/root.crl`. Root CRL numbers count seconds: one signed offline has the second it was
/// signed at (or one above the file it replaces, should that be higher); the server numbers the one
/// it signs for a day with the day's first second, or one above the offline one it has, so that the
/// numbers only grow.
struct OfflineRootCRL: Sendable {
    static let fileName = "root.crl"

    let der: [UInt8]
    let thisUpdate: Date
    let nextUpdate: Date
    let number: Int

    /// Reads and checks a root CRL: a CRL the root signed, with a nextUpdate.
    init(der: [UInt8], root: Certificate) throws {
        let list: RevocationListReader
        do {
            list = try RevocationListReader(derEncoded: der)
        } catch {
            throw ServerStartupError("it is not a DER X.509 CRL: \(error)")
        }
        guard list.isSigned(by: root) else { throw ServerStartupError("it is not signed by this authority's root CA") }
        guard let next = list.nextUpdate else { throw ServerStartupError("it has no nextUpdate") }
        guard let number = list.number else { throw ServerStartupError("it has no CRL number") }
        self.der = der
        thisUpdate = list.thisUpdate
        nextUpdate = next
        self.number = number
    }

    /// Signs a root CRL valid for `days` from `now` with the root key, numbered above `above`.
    static func sign(root: Certificate, rootKey: P256.Signing.PrivateKey, days: Int, now: Date, above: Int?) throws -> OfflineRootCRL {
        let seconds = Int(now.timeIntervalSince1970)
        let der = try CertificateAuthority.rootRevocationList(
            root: root, rootKey: rootKey, number: max(seconds, (above ?? 0) + 1), now: Date(timeIntervalSince1970: TimeInterval(seconds)), validity: TimeInterval(days) * 86_400)
        return try OfflineRootCRL(der: der, root: root)
    }

    /// The root CRL at `path`, if there is a file; a file that is not one stops with the reason.
    static func read(path: String, root: Certificate) throws -> OfflineRootCRL? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ServerStartupError("\(path) cannot be read: \(error.localizedDescription)")
        }
        do {
            return try OfflineRootCRL(der: Array(data), root: root)
        } catch let error as ServerStartupError {
            throw ServerStartupError("\(path) is not a root CRL of this authority: \(error.description)")
        }
    }
}

/// The root's own CRL as the server hands it out. With the root key in `keys/`, the server signs one
/// a day (valid for a week). Without it (kept offline), it serves `pki/root.crl`, signed offline,
/// and takes up a renewed file without a restart; a signed-offline file is also served while valid
/// when the key is back.
final class RootRevocationLists: Sendable {
    let ca: CertificateAuthority
    let key: P256.Signing.PrivateKey?
    let path: String
    let logger: Logger
    private struct State {
        var modified: Date?
        var offline: OfflineRootCRL?
        var online: (day: Int, der: [UInt8])?
    }
    private let state: Mutex<State>

    /// Warn when an offline root CRL has less than this left.
    static let renewalWarning: TimeInterval = 30 * 86_400

    /// Loads the offline CRL at `path` if there is one; without a root key there must be one.
    init(ca: CertificateAuthority, key: P256.Signing.PrivateKey?, path: String, now: Date, logger: Logger) throws {
        self.ca = ca
        self.key = key
        self.path = path
        self.logger = logger
        if let key, ca.root.publicKey != Certificate.PublicKey(key.publicKey) {
            throw ServerStartupError("keys/root.key is not the key of pki/root.pem; restore the pair from a backup")
        }
        let offline = try OfflineRootCRL.read(path: path, root: ca.root)
        if key == nil, offline == nil {
            throw ServerStartupError(
                "the root CA key (keys/root.key) is not here, and neither is a root CRL signed offline (\(path)). Put the key back, "
                    + "or sign a root CRL with it where it is kept: vouch admin ca sign-root-crl --data-dir DIR --root-key FILE")
        }
        state = Mutex(State(modified: Self.modified(path), offline: offline))
        if key == nil, let offline { Self.warnIfEnding(offline, now: now, path: path, logger: logger) }
    }

    static func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    static func warnIfEnding(_ offline: OfflineRootCRL, now: Date, path: String, logger: Logger) {
        let left = offline.nextUpdate.timeIntervalSince(now)
        guard left < renewalWarning else { return }
        logger.warning(
            left <= 0
                ? "the root CRL signed offline has expired: verifiers that check the root's CRL refuse every certificate; sign a new one"
                : "the root CRL signed offline expires within \(Int(left / 86_400) + 1) days; sign a new one",
            metadata: ["pki.root_crl": "\(path)", "pki.root_crl.next_update": "\(RFC3339.format(offline.nextUpdate))",
                "pki.command": "vouch admin ca sign-root-crl --data-dir DIR --root-key FILE"])
    }

    /// The offline CRL, read again when its file changed; a changed file that does not read keeps
    /// the one before (and says why in the log).
    private func offline(now: Date) -> OfflineRootCRL? {
        let modified = Self.modified(path)
        if let known = state.withLock({ $0.modified == modified ? $0.offline : nil }) { return known }
        if state.withLock({ $0.modified == modified }) { return nil }
        do {
            let fresh = try OfflineRootCRL.read(path: path, root: ca.root)
            if let fresh, let held = state.withLock({ $0.offline }), fresh.number <= held.number {
                throw ServerStartupError("its CRL number \(fresh.number) is not above the one served, \(held.number): an older root CRL")
            }
            state.withLock {
                $0.modified = modified
                // A removed file is dropped when the server can sign its own; without the key, the
                // last one read is all there is.
                if fresh != nil || key != nil { $0.offline = fresh }
            }
            if let fresh {
                logger.info("took up a root CRL signed offline", metadata: ["pki.root_crl.next_update": "\(RFC3339.format(fresh.nextUpdate))"])
                if key == nil { Self.warnIfEnding(fresh, now: now, path: path, logger: logger) }
            }
        } catch {
            state.withLock { $0.modified = modified }
            logger.error("kept the root CRL served before: the changed file does not read", metadata: ["error": "\(error)"])
        }
        return state.withLock { $0.offline }
    }

    /// The root CRL to hand out now (DER).
    func current(now: Date) throws -> [UInt8] {
        let offline = self.offline(now: now)
        guard let key else {
            // Checked at start: without the key there is an offline CRL.
            return offline?.der ?? []
        }
        if let offline, offline.nextUpdate > now { return offline.der }
        let day = Int(now.timeIntervalSince1970) / 86_400
        if let online = state.withLock({ $0.online }), online.day == day { return online.der }
        // The day's first second, or above the offline CRL's number should that be higher.
        let number = max(day * 86_400, (offline?.number ?? 0) + 1)
        let der = try ca.rootRevocationList(rootKey: key, number: number, now: Date(timeIntervalSince1970: TimeInterval(day * 86_400)))
        state.withLock { $0.online = (day, der) }
        return der
    }
}
