import Foundation

extension SigningKey {
    /// Writes the private JWK to `path` with mode 0600 from the first byte, atomically. Refuses to
    /// replace an existing file unless `overwrite` is set.
    public func write(toFile path: String, overwrite: Bool = false) throws {
        try AtomicFile.write(jwk.jsonData(pretty: true) + Data("\n".utf8), to: path, mode: 0o600, replacingExisting: overwrite)
    }

    /// Reads a private JWK file written by ``write(toFile:overwrite:)`` or by another JOSE tool.
    public init(contentsOfFile path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw VouchKitError.io("cannot read key file \(path): \(error.localizedDescription)")
        }
        try self.init(jwk: try JWK(json: data))
    }
}
