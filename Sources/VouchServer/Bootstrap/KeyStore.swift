import Foundation
import VouchKit

/// Where the server's private keys live. The file store keeps them under `DATA_DIR/keys` with mode
/// 0600; an HSM or KMS store would conform to the same protocol.
public protocol KeyStore: Sendable {
    /// The key material stored under `name`, or nil.
    func load(_ name: String) throws -> Data?
    /// Stores new key material under `name`; refuses to replace an existing key.
    func create(_ name: String, contents: Data) throws
}

/// Keys as files of mode 0600 in a directory of mode 0700.
public struct FileKeyStore: KeyStore {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public func load(_ name: String) throws -> Data? {
        let path = directory + "/" + name
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        try DataDirectory.requirePrivate(path, kind: "key file")
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    public func create(_ name: String, contents: Data) throws {
        try AtomicFile.write(contents, to: directory + "/" + name, mode: 0o600, replacingExisting: false)
    }
}
