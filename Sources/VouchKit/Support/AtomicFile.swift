import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing files so that a reader sees the old file or the new one, never a partial one, and so
/// that "do not replace" holds even against a file created at the same moment.
package enum AtomicFile {
    /// Writes `data` to `path` through a temporary file in the same folder.
    /// - Parameters:
    ///   - mode: the new file's permissions from its first byte (0600 for secrets); when `nil`, a
    ///     replaced file keeps its permissions and a new one gets 0644.
    ///   - replacingExisting: when `false`, an existing file is left alone and the write fails.
    package static func write(_ data: Data, to path: String, mode: mode_t? = nil, replacingExisting: Bool) throws {
        let destination = URL(fileURLWithPath: path)
        let folder = destination.deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw VouchKitError.io("cannot write \(path): the folder \(folder) does not exist")
        }
        if !replacingExisting, FileManager.default.fileExists(atPath: path) {
            throw VouchKitError.io("\(path) already exists; it was left unchanged")
        }
        var permissions = mode ?? 0o644
        if mode == nil, replacingExisting, let existing = try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int {
            permissions = mode_t(existing)
        }
        let temporary = folder + "/.\(destination.lastPathComponent).\(UUID().uuidString).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, permissions)
        guard fd >= 0 else {
            throw VouchKitError.io("cannot create a file in \(folder): \(lastError())")
        }
        defer { unlink(temporary) }
        // open(2) applies the umask; set the exact mode asked for.
        fchmod(fd, permissions)
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
        } catch {
            throw VouchKitError.io("cannot write \(path): \(error.localizedDescription)")
        }
        if replacingExisting {
            guard rename(temporary, path) == 0 else { throw VouchKitError.io("cannot replace \(path): \(lastError())") }
            return
        }
        // link(2) fails rather than replace a file that appeared since the check above.
        if link(temporary, path) != 0 {
            let linkError = errno
            guard linkError != EEXIST else { throw VouchKitError.io("\(path) already exists; it was left unchanged") }
            // Some file systems have no hard links: fall back to check-then-rename.
            guard !FileManager.default.fileExists(atPath: path), rename(temporary, path) == 0 else {
                throw VouchKitError.io("cannot create \(path): \(lastError())")
            }
        }
    }

    private static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
