import Crypto
import Foundation
import Logging
import VouchCore
import VouchKit
import VouchStore
import X509

/// The data directory: `vouch-data.json` (format marker, written last), `keys/` (0700, private keys
/// 0600, and `nonce.key`, which is made again when missing), `pki/` (certificates), `admin-api-key`
/// (0600) and `vouch.sqlite` (with its lock, `vouch.sqlite.lock`) when SQLite is used.
enum DataDirectory {
    static let marker = "vouch-data.json"
    /// The keys a start needs. The root key (`root.key`) may be kept offline once a root CRL has
    /// been signed with it (`RootCustody`).
    static let keyNames = ["intermediate.key", "ocsp.key", "issuer.jwk"]
    static let certificateNames = ["root.pem", "intermediate.pem", "ocsp.pem"]

    /// Refuses files or directories that group or others can read or write.
    static func requirePrivate(_ path: String, kind: String) throws {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue
        else { throw ServerStartupError("cannot read \(kind) \(path)") }
        if mode & 0o077 != 0 {
            let wanted = (attributes[.type] as? FileAttributeType) == .typeDirectory ? "700" : "600"
            throw ServerStartupError(
                "\(kind) \(path) has mode \(String(mode, radix: 8)); it must be readable by its owner only (chmod \(wanted) \(path))"
            )
        }
    }

    static func isDirectory(_ path: String) -> Bool? {
        var directory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &directory) else { return nil }
        return directory.boolValue
    }

    /// Creates the directory layout if absent; checks its shape and permissions otherwise.
    /// Returns true when the directory still needs bootstrapping.
    static func prepare(_ root: String) throws -> Bool {
        switch isDirectory(root) {
        case .some(false):
            throw ServerStartupError("the data directory \(root) is a file; point --data-dir at a directory")
        case nil:
            do {
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw ServerStartupError("cannot create the data directory \(root): \(error.localizedDescription)")
            }
        case .some(true):
            break
        }
        try requirePrivate(root, kind: "the data directory")
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let hasMarker = contents.contains(marker)
        if !hasMarker {
            let known: Set<String> = ["keys", "pki", "admin-api-key", "vouch.sqlite", "vouch.sqlite-wal", "vouch.sqlite-shm", "vouch.sqlite.lock"]
            let foreign = contents.filter { !known.contains($0) && !$0.hasPrefix(".") }
            if !foreign.isEmpty {
                throw ServerStartupError(
                    "\(root) is not a Vouch data directory (it holds \(foreign.sorted().prefix(3).joined(separator: ", "))); use an empty or new directory"
                )
            }
            if contents.contains("keys") || contents.contains("pki") {
                throw ServerStartupError(
                    "\(root) holds keys from a bootstrap that did not finish (no \(marker)); move it aside and start again with an empty directory"
                )
            }
            for sub in ["keys", "pki"] {
                try FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            return true
        }
        guard isDirectory(root + "/keys") == true else {
            throw ServerStartupError("\(root)/keys is missing or not a directory; restore it from a backup")
        }
        try requirePrivate(root + "/keys", kind: "the key directory")
        for name in keyNames where !FileManager.default.fileExists(atPath: root + "/keys/" + name) {
            throw ServerStartupError("\(root)/keys/\(name) is missing; restore it from a backup")
        }
        for name in certificateNames where !FileManager.default.fileExists(atPath: root + "/pki/" + name) {
            throw ServerStartupError("\(root)/pki/\(name) is missing; restore it from a backup")
        }
        let markerText = (try? String(contentsOfFile: root + "/" + marker, encoding: .utf8)) ?? ""
        guard markerText.contains("\"format\": 1") || markerText.contains("\"format\":1") else {
            throw ServerStartupError("\(root)/\(marker) does not say format 1; this data directory was written by another version")
        }
        return false
    }
}

extension DataDirectory {
    /// Refuses a path that is not an authority's data directory, or a backup of one (the commands
    /// that work on one directly: recover, backup, restore).
    static func requireBootstrapped(_ root: String) throws {
        guard isDirectory(root) == true, FileManager.default.fileExists(atPath: root + "/" + marker) else {
            throw ServerStartupError("\(root) is not the data directory of a bootstrapped authority, nor a backup of one (no \(marker))")
        }
    }

    /// Takes back what `prepare` made for a bootstrap that did not start: the empty `keys/` and
    /// `pki/`, and the directory itself when `prepare` created it and nothing else is in it.
    static func undoPreparation(_ root: String, removeRoot: Bool) {
        let files = FileManager.default
        for sub in ["keys", "pki"] where ((try? files.contentsOfDirectory(atPath: root + "/" + sub)) ?? ["?"]).isEmpty {
            try? files.removeItem(atPath: root + "/" + sub)
        }
        if removeRoot, ((try? files.contentsOfDirectory(atPath: root)) ?? ["?"]).isEmpty {
            try? files.removeItem(atPath: root)
        }
    }
}

/// Why the server would not start, in words for the operator.
public struct ServerStartupError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
