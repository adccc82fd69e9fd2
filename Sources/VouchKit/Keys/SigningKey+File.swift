import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension SigningKey {
    /// Writes the private JWK to `path` with mode 0600, atomically (a temporary file in the same
    /// directory, then a rename). Refuses to replace an existing file unless `overwrite` is set.
    public func write(toFile path: String, overwrite: Bool = false) throws {
        try SecretFile.write(jwk.jsonData(pretty: true) + Data("\n".utf8), to: path, overwrite: overwrite)
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

/// Writing secrets: mode 0600 from the first byte, atomic replace.
package enum SecretFile {
    /// Writes `data` to `path` with mode 0600 through a temporary file and a rename.
    package static func write(_ data: Data, to path: String, overwrite: Bool) throws {
        if !overwrite, FileManager.default.fileExists(atPath: path) {
            throw VouchKitError.io("\(path) already exists; refusing to overwrite a key file")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\((path as NSString).lastPathComponent).\(UUID().uuidString).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw VouchKitError.io("cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var ok = true
        do {
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
        } catch {
            ok = false
        }
        guard ok, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw VouchKitError.io("cannot write \(path): \(reason)")
        }
    }
}
