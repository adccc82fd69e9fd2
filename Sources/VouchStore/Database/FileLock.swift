#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// An exclusive lock on a SQLite database for one server process: `flock` on `<database>.lock`,
/// which holds the owner's process id. SQLite itself would let a second server open the file, and
/// then both would cache what only one may assume (revocation state, log frontier, counters). The
/// kernel drops the lock when the process ends, however it ends.
package final class FileLock: Sendable {
    private let descriptor: Mutex<Int32?>
    package let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = Mutex(descriptor)
        self.path = path
    }

    /// Takes the lock on `database` or says who holds it.
    package static func acquire(forDatabase database: String) throws(StoreError) -> FileLock {
        let path = database + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreError.unavailable("cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = read(fd, &buffer, buffer.count)
            close(fd)
            guard busy else { throw StoreError.unavailable("cannot lock \(path): \(String(cString: strerror(errno)))") }
            let owner = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw StoreError.conflict(
                "another Vouch server\(owner.isEmpty ? "" : " (process \(owner))") is using the SQLite database \(database); "
                    + "stop it first, or start this one with another --data-dir")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        return FileLock(descriptor: fd, path: path)
    }

    /// Gives the lock up. Idempotent.
    package func release() {
        guard let fd = descriptor.withLock({ value -> Int32? in defer { value = nil }; return value }) else { return }
        _ = ftruncate(fd, 0)
        close(fd)
    }

    deinit { release() }
}
