#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A TCP port held from before the authority loads until its listener binds it: the port the kernel
/// chose for `--port 0`, or the port asked for, found free (a busy port stops the start before
/// anything is printed or loaded).
///
/// The server's public URL (in certificates, status lists, the did:web and the tokens' audience)
/// names its port, and the services are built before Hummingbird binds the listener. So for port 0
/// the port is taken first: a socket bound to port 0 with `SO_REUSEADDR` and never put into the
/// listening state. The kernel hands that port to no one else while the socket is open, and on
/// Linux the listener (which Hummingbird also binds with `SO_REUSEADDR`) may bind the same port
/// because the reservation does not listen. The reservation is closed once the listener runs.
final class PortReservation: Sendable {
    let port: Int
    private let descriptor: Mutex<Int32?>

    /// Binds a socket on `host` (resolved as NIO resolves a listener's host: the first address) and
    /// `port` (0: one the kernel chooses).
    init(host: String, port wanted: Int = 0) throws(ServerStartupError) {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(wanted), &hints, &results)
        guard status == 0, let first = results else {
            throw ServerStartupError("cannot resolve the listen address \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(results) }
        let info = first.pointee
        let fd = socket(info.ai_family, info.ai_socktype, info.ai_protocol)
        guard fd >= 0 else { throw ServerStartupError("cannot open a socket to choose a port: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0,
            bind(fd, info.ai_addr, info.ai_addrlen) == 0
        else {
            let code = errno
            let reason = String(cString: strerror(code))
            close(fd)
            if wanted != 0 && code == EADDRINUSE {
                throw ServerStartupError(
                    "port \(wanted) on \(host) is in use: another program listens there (ss -ltnp 'sport = :\(wanted)' names it); "
                        + "stop it, or give another port (0: one the kernel chooses)")
            }
            if wanted != 0 {
                throw ServerStartupError("cannot listen on \(host) port \(wanted): \(reason)")
            }
            throw ServerStartupError("cannot choose a free port on \(host): \(reason)")
        }
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ServerStartupError("cannot read the port the kernel chose: \(reason)")
        }
        let family = Int32(address.ss_family)
        let networkOrder: UInt16 = withUnsafePointer(to: &address) { pointer in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_port }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_port }
        }
        port = Int(UInt16(bigEndian: networkOrder))
        descriptor = Mutex(fd)
    }

    /// Gives the port up (the listener has bound it, or the server never listens). Idempotent.
    func release() {
        guard let fd = descriptor.withLock({ value -> Int32? in defer { value = nil }; return value }) else { return }
        close(fd)
    }

    deinit { release() }
}
