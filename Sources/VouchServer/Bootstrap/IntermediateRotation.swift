import Crypto
import Foundation
import Logging
import SwiftASN1
import VouchCore
import VouchKit
import VouchStore
import X509

/// Replaces the issuing intermediate: the root signs a new one (generation + 1, a new key and OCSP
/// responder), which issues from the next start on. The one before stays in `pki/` and `keys/` as
/// `*-previous`: the server keeps answering for what it issued (its CRL at the URL its certificates
/// name, OCSP, device authentication) and the trust bundle and `/v1/pki/intermediate.pem` carry
/// both, until the certificates it issued have expired. Only then may the next rotation drop it.
public enum IntermediateRotation {
    public struct Outcome: Sendable {
        /// The new intermediate's generation, and the one it replaces.
        public let generation: Int
        public let previousGeneration: Int
        /// The fingerprint (SHA-256 of the DER, hex) of the new intermediate.
        public let fingerprint: String
        /// Certificates the previous intermediate issued that are still valid, and the last expiry.
        public let previousInUse: Int
        public let previousInUseUntil: Date?
    }

    /// Rotates the intermediate of the authority in `dataDirectory` (on `databaseURL`; nil: SQLite in
    /// the data directory), with the root key in `keys/root.key` or, kept offline, in `rootKeyFile`.
    /// On SQLite the server must be stopped; start it again afterwards.
    public static func rotate(
        dataDirectory root: String, databaseURL: String?, rootKeyFile: String?, logger: Logger, now: Date = Date()
    ) async throws -> Outcome {
        try DataDirectory.requireBootstrapped(root)
        let keyPath = rootKeyFile ?? root + "/keys/" + RootCustody.rootKeyName
        guard FileManager.default.fileExists(atPath: keyPath) else {
            throw ServerStartupError(
                rootKeyFile == nil
                    ? "\(keyPath) is not here (the root key is kept offline): give it with --root-key FILE"
                    : "cannot read the root key file \(keyPath)")
        }
        try DataDirectory.requirePrivate(keyPath, kind: "the root key file")
        let rootKey = try RootCustody.rootKey(String(decoding: FileManager.default.contents(atPath: keyPath) ?? Data(), as: UTF8.self), from: keyPath)
        let rootCertificate = try RootCustody.rootCertificate(root)
        guard rootCertificate.publicKey == Certificate.PublicKey(rootKey.publicKey) else {
            throw ServerStartupError("\(keyPath) is not the key of this authority's root CA (\(root)/pki/root.pem)")
        }
        let current = try certificate(root + "/pki/" + IssuingCAFiles.current.intermediate)
        let previousPath = root + "/pki/" + IssuingCAFiles.previous.intermediate
        let previous = FileManager.default.fileExists(atPath: previousPath) ? try certificate(previousPath) : nil

        return try await OfflineAuthority.withStore(dataDirectory: root, databaseURL: databaseURL, logger: logger, now: now, doing: "rotate the intermediate") {
            store in
            let seconds = Int(now.timeIntervalSince1970)
            // The previous intermediate is dropped by this rotation: nothing it issued may still be valid.
            // Read from the certificates themselves: a node not yet restarted after the last rotation
            // may have gone on issuing with it.
            if let previous {
                let (count, last) = try await issued(by: previous, store: store, at: seconds)
                if count > 0 {
                    throw ServerStartupError(
                        "the intermediate before the current one (generation \(CertificateAuthority.generation(of: previous))) issued \(count) "
                            + "certificate\(count == 1 ? "" : "s") still valid, the last until "
                            + "\(last.map { RFC3339.format(Date(timeIntervalSince1970: TimeInterval($0))) } ?? "?"); a rotation now would "
                            + "leave them with no CRL or OCSP. Rotate after then, once devices have renewed.")
                }
            }
            // What the current one issued, which it answers for as the previous one from now on.
            let stillIssued = try await issued(by: current, store: store, at: seconds)
            // The root's CRL is published where the authority is now (after a migrate-url, not where the
            // intermediate before was made).
            let rootCRLURL = try await IdentityPin.pinned(store).map { $0.url + "/v1/pki/root.crl" }
            let rotation = try CertificateAuthority.nextIntermediate(after: current, root: rootCertificate, rootKey: rootKey, rootCRLURL: rootCRLURL, now: now)
            try replaceFiles(root: root, with: rotation)
            let fingerprint = Hex.encode(Array(SHA256.hash(data: try DERBytes.of(rotation.intermediate))))
            let outcome = Outcome(
                generation: CertificateAuthority.generation(of: rotation.intermediate), previousGeneration: CertificateAuthority.generation(of: current),
                fingerprint: fingerprint, previousInUse: stillIssued.count,
                previousInUseUntil: stillIssued.last.map { Date(timeIntervalSince1970: TimeInterval($0)) })
            let events = EventRecorder(clock: ServerClock { now })
            let subject = rotation.intermediate.subject.description
            let previousFingerprint = Hex.encode(Array(SHA256.hash(data: try DERBytes.of(current))))
            try await store.transaction { session in
                try await events.record(session, kind: .authorityIntermediateRotated, subject: subject, actor: "operator", data: [
                    "generation": .number(Double(outcome.generation)), "intermediate": .string(fingerprint), "previous": .string(previousFingerprint),
                ])
            }
            return outcome
        }
    }

    /// How many certificates `intermediate` issued are unexpired at `now`, and when the last expires.
    static func issued(by intermediate: Certificate, store: Store, at now: Int) async throws -> (count: Int, last: Int?) {
        var count = 0
        var last: Int?
        var after = ""
        while true {
            let cursor = after
            let page = try await store.read { try await $0.certificates.unexpired(at: now, after: cursor, limit: 2_000) }
            for row in page {
                // Issuing CAs of different generations have different names.
                guard let certificate = try? Certificate(pemEncoded: row.pem), certificate.issuer == intermediate.subject else { continue }
                count += 1
                last = max(last ?? row.notAfter, row.notAfter)
            }
            guard let final = page.last, page.count == 2_000 else { break }
            after = final.serial
        }
        return (count, last)
    }

    static func certificate(_ path: String) throws -> Certificate {
        do {
            return try Certificate(pemEncoded: String(contentsOfFile: path, encoding: .utf8))
        } catch {
            throw ServerStartupError("\(path) is not a PEM certificate; restore it from a backup")
        }
    }

    /// The current files become the previous ones (the previous are dropped), and the rotation's
    /// are written as the current ones. The new files are written first, beside; then the current
    /// ones are linked as the previous (replacing them) and the new ones renamed over the current.
    /// Until that last step the current files stay in place; a failure in it puts back what it
    /// moved. A crash in it leaves an intermediate and a key that do not match, which the server
    /// refuses to start on: restore the data directory from the backup taken before.
    static func replaceFiles(root: String, with rotation: CertificateAuthority.Rotation) throws {
        let pki = root + "/pki/", keys = root + "/keys/"
        let next = [
            (keys + "intermediate.key.next", Data(rotation.intermediateKey.pemRepresentation.utf8), mode_t(0o600)),
            (keys + "ocsp.key.next", Data(rotation.responderKey.pemRepresentation.utf8), mode_t(0o600)),
            (pki + "intermediate.pem.next", Data((try rotation.intermediate.serializeAsPEM().pemString + "\n").utf8), mode_t(0o644)),
            (pki + "ocsp.pem.next", Data((try rotation.responder.serializeAsPEM().pemString + "\n").utf8), mode_t(0o644)),
        ]
        do {
            for (path, data, mode) in next {
                try AtomicFile.write(data, to: path, mode: mode, replacingExisting: true)
            }
        } catch {
            for (path, _, _) in next { try? FileManager.default.removeItem(atPath: path) }
            throw ServerStartupError("cannot write the new intermediate: \(error)")
        }
        let current = IssuingCAFiles.current, previous = IssuingCAFiles.previous
        let pairs = [
            (keys + current.intermediateKey, keys + previous.intermediateKey), (keys + current.responderKey, keys + previous.responderKey),
            (pki + current.intermediate, pki + previous.intermediate), (pki + current.responder, pki + previous.responder),
        ]
        // The current files, as the previous ones: a rename over an old previous file replaces it
        // at once; the current ones stay where they are (linked twice) until the new ones replace them.
        for (from, to) in pairs {
            let staged = to + ".next"
            unlink(staged)
            guard link(from, staged) == 0, rename(staged, to) == 0 else {
                let code = errno
                for (path, _, _) in next { unlink(path) }
                throw ServerStartupError("cannot keep \(from) as \(to) (errno \(code)); the current intermediate is unchanged")
            }
        }
        var replaced: [(String, String)] = []
        for (path, _, _) in next {
            let final = String(path.dropLast(".next".count))
            guard rename(path, final) == 0 else {
                let code = errno
                // Put back what was replaced: the previous files hold the current ones.
                for (to, from) in zip(pairs.map(\.1), pairs.map(\.0)) where replaced.contains(where: { $0.1 == from }) {
                    _ = link(to, from + ".back")
                    _ = rename(from + ".back", from)
                }
                for (path, _, _) in next { unlink(path) }
                throw ServerStartupError("cannot move \(path) to \(final) (errno \(code)); the current files were put back")
            }
            replaced.append((path, final))
        }
        syncDirectory(pki)
        syncDirectory(keys)
    }
}

/// Makes the renames in `directory` durable.
func syncDirectory(_ directory: String) {
    let descriptor = open(directory, O_RDONLY | O_DIRECTORY)
    guard descriptor >= 0 else { return }
    fsync(descriptor)
    close(descriptor)
}
