import Crypto
import Foundation
import SwiftASN1
import VouchCore
import VouchKit
import X509

/// Keeping the root CA key offline. After the bootstrap the server needs the root key only to sign
/// the root's own CRL, once a day. `exportRoot` copies the key out, signs a long-lived root CRL with
/// it (`pki/root.crl`) and, asked to, removes it from `keys/`: the server then starts without it and
/// serves that CRL. Before it runs out, `signRootCRL` signs the next one with the key brought from
/// where it is kept; a running server takes the new file up without a restart.
public enum RootCustody {
    /// The longest a root CRL signed offline may run (nextUpdate − thisUpdate), in days.
    public static let maximumDays = 3650
    public static let rootKeyName = "root.key"

    /// What an offline operation did.
    public struct Outcome: Sendable {
        /// The signed root CRL's file, and when it runs out.
        public let crlPath: String
        public let nextUpdate: Date
    }

    /// Copies `DATA_DIR/keys/root.key` to `destination` (a new file, mode 0600), checks the copy,
    /// signs a root CRL valid for `days` into `DATA_DIR/pki/root.crl` and, with `remove`, deletes
    /// the key from the data directory.
    public static func exportRoot(dataDirectory root: String, to destination: String, remove: Bool, days: Int, now: Date = Date()) throws -> Outcome {
        try checkDays(days)
        try DataDirectory.requireBootstrapped(root)
        try DataDirectory.requirePrivate(root + "/keys", kind: "the key directory")
        let source = root + "/keys/" + rootKeyName
        guard let data = FileManager.default.contents(atPath: source) else {
            throw ServerStartupError("\(source) is not here: the root key is kept offline already (sign root CRLs with vouch admin ca sign-root-crl)")
        }
        let key = try rootKey(String(decoding: data, as: UTF8.self), from: source)
        let certificate = try rootCertificate(root)
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw ServerStartupError("\(source) is not the key of \(root)/pki/root.pem; restore the pair from a backup")
        }
        // A copy inside the data directory would travel with it (and its backups): not offline.
        let home = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath().path
        let target = URL(fileURLWithPath: destination).deletingLastPathComponent().standardizedFileURL.resolvingSymlinksInPath().path
        if target == home || target.hasPrefix(home + "/") {
            throw ServerStartupError("\(destination) is inside the data directory \(root): export the root key to where it will be kept offline")
        }
        do {
            try AtomicFile.write(data, to: destination, mode: 0o600, replacingExisting: false)
        } catch {
            throw ServerStartupError("cannot export the root key: \(error)")
        }
        // The copy must read back as the same key before anything else changes.
        guard let copied = FileManager.default.contents(atPath: destination),
            (try? rootKey(String(decoding: copied, as: UTF8.self), from: destination))?.rawRepresentation == key.rawRepresentation
        else {
            throw ServerStartupError("the copy at \(destination) does not read back as the root key; \(source) was left in place")
        }
        // On disk before the original goes: the file (AtomicFile syncs it) and its directory entry.
        syncDirectory(URL(fileURLWithPath: destination).deletingLastPathComponent().path)
        let outcome = try sign(root: root, certificate: certificate, key: key, days: days, now: now)
        if remove {
            do {
                try FileManager.default.removeItem(atPath: source)
            } catch {
                throw ServerStartupError("exported the key and signed the root CRL, but cannot remove \(source): \(error.localizedDescription)")
            }
        }
        return outcome
    }

    /// Signs the next root CRL, valid for `days`, with the root key in `keyFile` (brought from where
    /// it is kept offline), into `DATA_DIR/pki/root.crl`.
    public static func signRootCRL(dataDirectory root: String, keyFile: String, days: Int, now: Date = Date()) throws -> Outcome {
        try checkDays(days)
        try DataDirectory.requireBootstrapped(root)
        try DataDirectory.requirePrivate(keyFile, kind: "the root key file")
        guard let data = FileManager.default.contents(atPath: keyFile) else {
            throw ServerStartupError("cannot read the root key file \(keyFile)")
        }
        let key = try rootKey(String(decoding: data, as: UTF8.self), from: keyFile)
        let certificate = try rootCertificate(root)
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw ServerStartupError("\(keyFile) is not the key of this authority's root CA (\(root)/pki/root.pem)")
        }
        return try sign(root: root, certificate: certificate, key: key, days: days, now: now)
    }

    static func checkDays(_ days: Int) throws {
        guard (1...maximumDays).contains(days) else {
            throw ServerStartupError("a root CRL runs between 1 and \(maximumDays) days, not \(days)")
        }
    }

    static func rootKey(_ pem: String, from path: String) throws -> P256.Signing.PrivateKey {
        do {
            return try P256.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw ServerStartupError("\(path) is not a PEM P-256 private key")
        }
    }

    /// The root certificate of the data directory.
    static func rootCertificate(_ root: String) throws -> Certificate {
        do {
            return try Certificate(pemEncoded: String(contentsOfFile: root + "/pki/root.pem", encoding: .utf8))
        } catch {
            throw ServerStartupError("\(root)/pki/root.pem is not a PEM certificate; restore it from a backup")
        }
    }

    static func sign(root: String, certificate: Certificate, key: P256.Signing.PrivateKey, days: Int, now: Date) throws -> Outcome {
        let path = root + "/pki/" + OfflineRootCRL.fileName
        // Numbered above the one it replaces, whatever this machine's clock says.
        let replaced = try? OfflineRootCRL.read(path: path, root: certificate)
        let list = try OfflineRootCRL.sign(root: certificate, rootKey: key, days: days, now: now, above: replaced?.number)
        do {
            try AtomicFile.write(Data(list.der), to: path, mode: 0o644, replacingExisting: true)
        } catch {
            throw ServerStartupError("cannot write the root CRL: \(error)")
        }
        return Outcome(crlPath: path, nextUpdate: list.nextUpdate)
    }
}
