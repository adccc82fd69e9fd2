import Crypto
import Foundation
import SwiftASN1
import VouchCore
import VouchKit
import VouchStore
import X509

/// A data directory and a database belong together: the directory holds the authority's keys, the
/// database its devices, certificates, API keys and transparency log. The database records which
/// authority it belongs to: the `authority.bootstrapped` event, among its first, names the root CA
/// by the SHA-256 of its DER. A start that pairs them otherwise is refused before anything is
/// written: keys on an empty database would serve an authority with no admin key and a log starting
/// over under its old key; a new data directory on a database in use would bootstrap a second
/// authority into it.
enum AuthorityBinding {
    /// Who a database belongs to.
    enum Owner: Equatable {
        /// No records: a new database.
        case nobody
        /// The authority whose root CA's DER has the SHA-256 `root` (hex), bootstrapped at `at`.
        case authority(root: String, at: Int)
        /// Records, but no bootstrap among the first of them.
        case unknown
    }

    /// Reads who owns the database.
    static func owner(of store: Store) async throws -> Owner {
        let first = try await store.read { try await $0.events.after(0, limit: 16) }
        guard !first.isEmpty else { return .nobody }
        for event in first where event.kind == EventKind.authorityBootstrapped.rawValue {
            if let root = try? event.data()["root"]?.stringValue, !root.isEmpty {
                return .authority(root: root, at: event.at)
            }
        }
        return .unknown
    }

    /// The SHA-256 (hex) of a root CA certificate's DER, as the bootstrap records it.
    static func fingerprint(of root: Certificate) throws -> String {
        Hex.encode(Array(SHA256.hash(data: try DERBytes.of(root))))
    }

    /// Refuses to pair the data directory `directory` (`fresh`: about to be bootstrapped) with the
    /// database at `location` unless they belong together.
    static func check(directory: String, fresh: Bool, store: Store, location: String) async throws {
        let owner = try await owner(of: store)
        if fresh {
            switch owner {
            case .nobody:
                return
            case .authority(let root, let at):
                throw ServerStartupError(
                    "the database at \(location) already belongs to an authority (root CA SHA-256 \(root.prefix(16))…, bootstrapped "
                        + "\(RFC3339.format(Date(timeIntervalSince1970: TimeInterval(at))))) and the data directory \(directory) is new. "
                        + "To run another node of that authority, copy its data directory (keys/, pki/ and vouch-data.json) to \(directory) "
                        + "first; to start a new authority, give it a new, empty database.")
            case .unknown:
                throw ServerStartupError(
                    "the database at \(location) already holds an authority's records and the data directory \(directory) is new. "
                        + "Start with that authority's data directory, or give a new authority a new, empty database.")
            }
        }
        let pem: String
        do {
            pem = try String(contentsOfFile: directory + "/pki/root.pem", encoding: .utf8)
        } catch {
            throw ServerStartupError("\(directory)/pki/root.pem cannot be read; restore it from a backup")
        }
        let mine: String
        do {
            mine = try fingerprint(of: try Certificate(pemEncoded: pem))
        } catch {
            throw ServerStartupError("\(directory)/pki/root.pem is not a PEM certificate; restore it from a backup")
        }
        switch owner {
        case .unknown:
            // Written by a version that did not record its bootstrap where this one looks: trusted.
            return
        case .authority(let root, _) where ConstantTime.equals(root, mine):
            return
        case .authority(let root, let at):
            throw ServerStartupError(
                "the data directory \(directory) belongs to the authority whose root CA has SHA-256 \(mine.prefix(16))…, but the database "
                    + "at \(location) belongs to another one (root CA \(root.prefix(16))…, bootstrapped "
                    + "\(RFC3339.format(Date(timeIntervalSince1970: TimeInterval(at))))). Start with the data directory and the database "
                    + "that were bootstrapped together.")
        case .nobody:
            throw ServerStartupError(
                "the data directory \(directory) belongs to the authority whose root CA has SHA-256 \(mine.prefix(16))…, but the database "
                    + "at \(location) is empty: it is not the database this authority was bootstrapped with, which holds its devices, "
                    + "API keys and transparency log. Start with that database (--database or VOUCH_DATABASE; without either, SQLite in "
                    + "the data directory); to start a new authority on this database, give it a new --data-dir. Moving an authority "
                    + "from one database to another is not supported.")
        }
    }
}
