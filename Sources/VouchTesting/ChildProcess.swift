import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The part of Foundation's `Process` the tests use, launched with `posix_spawn` directly.
///
/// On Linux, Foundation's `Process.run()` lists `/proc/self/fd` to close every descriptor in the
/// child, and copies each entry's whole 256-byte name out of the directory buffer: once the test
/// process holds about 1,350 descriptors (a fleet simulation keeps two connections per simulated
/// device, both ends in this process), that copy reads past the buffer and the whole test run
/// dies with SIGSEGV (seen in CI at descriptor 1355). Here the child closes them itself
/// (`posix_spawn_file_actions_addclosefrom_np`), starts with no signal blocked and its own process
/// group, as Foundation's children do, and a thread of its own waits for it.
///
/// Test targets alias it as `Process`, so the tests read as they would with Foundation's.
public final class ChildProcess: @unchecked Sendable {
    public enum TerminationReason: Sendable {
        case exit, uncaughtSignal
    }

    public var executableURL: URL?
    public var arguments: [String]?
    /// The child's environment; nil: this process's.
    public var environment: [String: String]?
    public var currentDirectoryURL: URL?
    /// A `FileHandle`, a `Pipe` or nil (`/dev/null`), as for Foundation's `Process`.
    public var standardInput: Any?
    public var standardOutput: Any?
    public var standardError: Any?
    /// Called on the waiting thread once the child has ended.
    public var terminationHandler: (@Sendable (ChildProcess) -> Void)?

    private let ended = NSCondition()
    private var pid: pid_t = 0
    private var exited = false
    private var waitStatus: Int32 = 0

    public init() {}

    /// The child's process id (0 before `run`).
    public var processIdentifier: Int32 { ended.withLock { pid } }

    public var isRunning: Bool { ended.withLock { pid != 0 && !exited } }

    /// The exit code, or the signal that ended the child.
    public var terminationStatus: Int32 {
        let status = ended.withLock { waitStatus }
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : status & 0x7F
    }

    public var terminationReason: TerminationReason {
        ended.withLock { waitStatus } & 0x7F == 0 ? .exit : .uncaughtSignal
    }

    public func run() throws {
        guard let executableURL else { throw POSIXError(.ENOENT) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var nullDevice: FileHandle?
        func descriptor(_ stream: Any?, input: Bool) throws -> Int32 {
            switch stream {
            case let pipe as Pipe: return input ? pipe.fileHandleForReading.fileDescriptor : pipe.fileHandleForWriting.fileDescriptor
            // `FileHandle.nullDevice` has no descriptor of its own (-1): it means /dev/null.
            case let handle as FileHandle where handle !== FileHandle.nullDevice && handle.fileDescriptor >= 0: return handle.fileDescriptor
            default:
                if nullDevice == nil { nullDevice = try FileHandle(forUpdating: URL(fileURLWithPath: "/dev/null")) }
                return nullDevice!.fileDescriptor
            }
        }
        let streams = [
            (try descriptor(standardInput, input: true), STDIN_FILENO), (try descriptor(standardOutput, input: false), STDOUT_FILENO),
            (try descriptor(standardError, input: false), STDERR_FILENO),
        ]
        for (from, to) in streams {
            // dup2 of a descriptor onto itself clears its close-on-exec flag (glibc 2.29 and later).
            try Self.check(posix_spawn_file_actions_adddup2(&actions, from, to), "adddup2")
        }
        try Self.check(spawnAddCloseFrom(&actions, 3), "addclosefrom_np")
        if let directory = currentDirectoryURL?.path {
            try Self.check(spawnAddChdir(&actions, directory), "addchdir_np")
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        try Self.check(posix_spawnattr_setsigmask(&attributes, &noSignals), "setsigmask")
        try Self.check(posix_spawnattr_setsigdefault(&attributes, &defaults), "setsigdefault")
        try Self.check(posix_spawnattr_setpgroup(&attributes, 0), "setpgroup")
        try Self.check(
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP)), "setflags")

        let path = executableURL.path
        let argv = ([path] + (arguments ?? [])).map { strdup($0) } + [nil]
        let environment = environment ?? ProcessInfo.processInfo.environment
        let envp = environment.map { strdup("\($0)=\($1)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var child: pid_t = 0
        let code = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        guard code == 0 else { throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EINVAL) }
        // The child has its ends of the pipes; without closing them here, a reader never sees the end.
        if let pipe = standardInput as? Pipe { try? pipe.fileHandleForReading.close() }
        if let pipe = standardOutput as? Pipe { try? pipe.fileHandleForWriting.close() }
        if let pipe = standardError as? Pipe, pipe !== standardOutput as? Pipe { try? pipe.fileHandleForWriting.close() }
        let spawned = child
        ended.withLock { pid = spawned }
        let waiter = Thread { [self] in
            var status: Int32 = 0
            while waitpid(spawned, &status, 0) == -1 && errno == EINTR {}
            ended.withLock {
                waitStatus = status
                exited = true
                ended.broadcast()
            }
            terminationHandler?(self)
        }
        waiter.name = "child \(spawned) waiter"
        waiter.start()
    }

    /// Waits until the child has ended.
    public func waitUntilExit() {
        ended.withLock {
            while !exited { ended.wait() }
        }
    }

    /// Sends SIGTERM.
    public func terminate() {
        let child = processIdentifier
        if child > 0 { kill(child, SIGTERM) }
    }

    /// Sends SIGINT.
    public func interrupt() {
        let child = processIdentifier
        if child > 0 { kill(child, SIGINT) }
    }

    private static func check(_ code: Int32, _ step: String) throws {
        guard code == 0 else { throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EINVAL) }
    }
}

// glibc 2.34 and later (Debian 12 has 2.36); Swift's Glibc module does not declare the GNU
// extensions of spawn.h.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func spawnAddCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32

@_silgen_name("posix_spawn_file_actions_addchdir_np")
private func spawnAddChdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: UnsafePointer<CChar>) -> Int32
